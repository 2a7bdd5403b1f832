/**
 * The join's side effects: {@link io.joinflow.activities.JoinActivitiesImpl} implements the
 * workflow's activity interface over the nodes' NodeAdmin API, reached through one
 * {@link io.joinflow.activities.NodeAdminPool} per worker. Every gRPC status becomes a Temporal
 * failure in {@link io.joinflow.activities.NodeAdminFailures} and nowhere else.
 */
package io.joinflow.activities;
