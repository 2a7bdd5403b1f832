package io.joinflow.gateway;

import io.grpc.StatusException;
import io.joinflow.proto.v1.ClusterView;

/** Where the gateway reads the cluster from (any live node's NodeAdmin). */
@FunctionalInterface
public interface ClusterViewSource {
  /**
   * The cluster as group 0's leader sees it.
   *
   * @throws StatusException UNAVAILABLE when no node answers
   */
  ClusterView view() throws StatusException;
}
