package io.joinflow.cli;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.gateway.ClusterMetadataSource;
import io.joinflow.proto.v1.ChangeTokenRequest;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.TokenRecord;

/**
 * The cluster read through whichever configured node answers: group 0's records for the
 * gateway, the full view for the commands that show every group.
 */
record PoolClusterViews(NodeAdminPool pool) implements ClusterMetadataSource {
  @Override
  public MetadataState metadata() throws StatusException {
    return read(pool::metadata);
  }

  @Override
  public java.util.List<TokenRecord> tokens() throws StatusException {
    return read(pool::tokens);
  }

  @Override
  public MetadataResult changeToken(ChangeTokenRequest request)
      throws StatusException {
    return read(() -> pool.changeToken(request));
  }

  public ClusterView view() throws StatusException {
    return read(pool::clusterView);
  }

  private static <T> T read(java.util.function.Supplier<T> call) throws StatusException {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw e.getStatus().asException();
    } catch (RuntimeException e) {
      throw Status.UNAVAILABLE.withDescription(e.getMessage()).asException();
    }
  }
}
