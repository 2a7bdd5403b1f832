package io.joinflow.workflows;

/**
 * What a join starts from: NodeDB's JoinRequest plus the cluster it joins and the options.
 *
 * @param nodeId the joining node's id (non-zero)
 * @param listenAddr the joining node's NodeAdmin address (host:port) in its canonical form, the one
 *     group 0 stores: the gateway canonicalizes the request's address (and refuses one that is
 *     malformed or the wildcard) before it starts a join, and join recovery takes it from group 0.
 *     The steps still check it themselves, for callers that start a join another way
 * @param wireVersion the wire version the joining node speaks
 * @param clusterId the cluster being joined
 * @param options timeouts and fan-out
 */
public record JoinInput(long nodeId, String listenAddr, int wireVersion, long clusterId, JoinOptions options) {}
