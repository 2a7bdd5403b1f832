package io.joinflow.gateway;

import io.grpc.StatusException;
import io.joinflow.proto.v1.MetadataState;

/**
 * Where the gateway reads the cluster from (any live node's NodeAdmin). The gateway needs group
 * 0's records only (cluster id, topology, join records), never a group's live configuration.
 */
@FunctionalInterface
public interface ClusterMetadataSource {
  /**
   * Group 0's state as its leader sees it (NodeAdmin {@code GetMetadata}).
   *
   * @throws StatusException UNAVAILABLE when no node answers
   */
  MetadataState metadata() throws StatusException;
}
