package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.joinflow.workflows.JoinSearchAttributes;

/**
 * The one mapping of what Temporal answers the gateway to what the gateway answers its caller.
 * A Temporal that is down or slow is {@code UNAVAILABLE} (calling again helps); a Temporal that
 * refuses the request ({@code INVALID_ARGUMENT}: an unregistered search attribute, a bad
 * namespace; {@code PERMISSION_DENIED} / {@code UNAUTHENTICATED}: credentials; {@code NOT_FOUND}:
 * the namespace) is {@code FAILED_PRECONDITION} with Temporal's cause, because calling again
 * cannot help until an operator fixes the setup.
 */
final class TemporalFailures {
  private TemporalFailures() {}

  /**
   * @param what what the gateway tried, e.g. "start the join workflow join/1/4"
   */
  static StatusException toStatus(Throwable failure, String what) {
    StatusRuntimeException grpc = grpcCause(failure);
    if (grpc == null) {
      return Status.UNAVAILABLE.withDescription("cannot " + what + ": " + failure.getMessage()).asException();
    }
    Status s = grpc.getStatus();
    String cause = s.getCode() + (s.getDescription() == null ? "" : " " + s.getDescription());
    return switch (s.getCode()) {
      case INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND, FAILED_PRECONDITION ->
          Status.FAILED_PRECONDITION.withDescription("Temporal refused to " + what + " (" + cause + "); "
              + hint(s)).asException();
      default -> Status.UNAVAILABLE.withDescription("cannot " + what + ": Temporal answered " + cause).asException();
    };
  }

  /** Whether the failure is Temporal refusing the request (retrying cannot help). */
  static boolean isRefusal(StatusException e) {
    return e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION;
  }

  private static String hint(Status s) {
    String d = s.getDescription() == null ? "" : s.getDescription();
    if (d.contains("search attribute")) {
      return "register joinflow's search attributes on the namespace: temporal operator search-attribute create"
          + " --name " + JoinSearchAttributes.NODE_ID.getName() + " --type Int and --name "
          + JoinSearchAttributes.PHASE.getName() + " --type Keyword (the worker and gateway check them at start)";
    }
    return switch (s.getCode()) {
      case PERMISSION_DENIED, UNAUTHENTICATED -> "check the gateway's Temporal credentials (TEMPORAL_API_KEY,"
          + " TEMPORAL_TLS_CLIENT_*) and their permissions on the namespace";
      case NOT_FOUND -> "check TEMPORAL_NAMESPACE";
      default -> "fix the gateway's Temporal setup; calling again will not help until then";
    };
  }

  private static StatusRuntimeException grpcCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof StatusRuntimeException s) {
        return s;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }
}
