package io.joinflow.workflows;

/**
 * What a join starts from: NodeDB's JoinRequest plus the cluster it joins and the options.
 *
 * @param nodeId the joining node's id (non-zero)
 * @param listenAddr the joining node's NodeAdmin address (host:port)
 * @param wireVersion the wire version the joining node speaks
 * @param clusterId the cluster being joined
 * @param options timeouts and fan-out
 */
public record JoinInput(long nodeId, String listenAddr, int wireVersion, long clusterId, JoinOptions options) {}
