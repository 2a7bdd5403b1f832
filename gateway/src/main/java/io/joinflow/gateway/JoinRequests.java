package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.JoinAddress;

/** The gateway's one check of each request field it acts on, before anything starts. */
final class JoinRequests {

  private JoinRequests() {}

  static void requireNodeId(long nodeId) throws StatusException {
    if (nodeId == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("node_id must be non-zero").asException();
    }
  }

  /** The canonical listen address ({@link JoinAddress#canonical}), or INVALID_ARGUMENT in NodeDB's words. */
  static String listenAddr(String requested) throws StatusException {
    try {
      return JoinAddress.canonical(requested);
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException();
    }
  }
}
