/**
 * The join's side effects: {@link io.joinflow.activities.JoinActivitiesImpl} and
 * {@link io.joinflow.activities.MembershipActivitiesImpl} implement the workflows' activity
 * interfaces over the nodes' NodeAdmin API, reached through one
 * {@link io.joinflow.activities.NodeAdminPool} per worker. They are thin: a step with a job of
 * its own has its own class (validate, the peer handshake, waiting for a learner, the broadcast,
 * a learner's removal), over shared parts — the reads ({@code ClusterReads}, narrowest first),
 * the questions asked of them ({@code ClusterViews}), group-0 changes (typed steps the node
 * checks and writes, never raw commands),
 * heartbeats ({@code Heartbeats}) and the listen address ({@code ListenAddresses}, over the
 * canonical form the gateway shares, {@link io.joinflow.proto.JoinAddress}). Every gRPC status,
 * and every refusal of the activities' own, becomes a Temporal failure in
 * {@link io.joinflow.activities.NodeAdminFailures} and nowhere else.
 */
package io.joinflow.activities;
