package io.joinflow.gateway;

import io.grpc.StatusException;
import io.joinflow.proto.v1.ChangeTokenRequest;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.TokenRecord;

/**
 * Where the gateway reads the cluster from (any live node's NodeAdmin). The gateway needs group
 * 0's records only (cluster id, topology, join records, join tokens), never a group's live
 * configuration, and changes nothing there but join tokens.
 */
@FunctionalInterface
public interface ClusterMetadataSource {
  /**
   * Group 0's state as its leader sees it (NodeAdmin {@code GetMetadata}).
   *
   * @throws StatusException UNAVAILABLE when no node answers
   */
  MetadataState metadata() throws StatusException;

  /**
   * The join tokens group 0 stores, hashes included (NodeAdmin {@code GetTokens}).
   *
   * @throws StatusException UNAVAILABLE when no node answers; UNIMPLEMENTED for a source that
   *     reads group 0's records only
   */
  default java.util.List<TokenRecord> tokens() throws StatusException {
    throw unsupported();
  }

  /**
   * Issues a join token or compare-and-sets its state (NodeAdmin {@code ChangeToken}).
   *
   * @throws StatusException the status group 0 refused the change with (nothing changed), or
   *     UNAVAILABLE when no node answers
   */
  default MetadataResult changeToken(ChangeTokenRequest request)
      throws StatusException {
    throw unsupported();
  }

  private static StatusException unsupported() {
    return io.grpc.Status.UNIMPLEMENTED.withDescription("this gateway reads the cluster without join tokens;"
        + " start it with --nodes to use them").asException();
  }
}
