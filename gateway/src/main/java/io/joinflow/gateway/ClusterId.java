package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.v1.MetadataState;

/**
 * The cluster id, read from group 0 once. It is set once at bootstrap and never changes, so
 * the gateway asks again only while the cluster has none yet.
 */
final class ClusterId {
  private final ClusterMetadataSource cluster;
  private volatile long known;

  ClusterId(ClusterMetadataSource cluster) {
    this.cluster = cluster;
  }

  /**
   * The cluster id.
   *
   * @throws StatusException UNAVAILABLE when no node answers or the cluster is not bootstrapped
   */
  long require() throws StatusException {
    long id = known;
    if (id != 0) {
      return id;
    }
    id = of(cluster.metadata());
    if (id == 0) {
      throw Status.UNAVAILABLE.withDescription("the cluster is not bootstrapped yet").asException();
    }
    return id;
  }

  /** The id in {@code state}, remembered when it is set; the remembered one when state has none. */
  long of(MetadataState state) {
    if (state.getClusterId() != 0) {
      known = state.getClusterId();
    }
    return known;
  }
}
