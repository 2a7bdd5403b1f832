package io.joinflow.cli;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.gateway.ClusterViewSource;
import io.joinflow.proto.v1.ClusterView;

/** The gateway's view of the cluster, read through whichever configured node answers. */
record PoolClusterViews(NodeAdminPool pool) implements ClusterViewSource {
  @Override
  public ClusterView view() throws StatusException {
    try {
      return pool.clusterView();
    } catch (StatusRuntimeException e) {
      throw e.getStatus().asException();
    } catch (RuntimeException e) {
      throw Status.UNAVAILABLE.withDescription(e.getMessage()).asException();
    }
  }
}
