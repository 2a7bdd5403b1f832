package io.joinflow.node.errors;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.joinflow.node.membership.MembershipException;
import io.joinflow.node.raft.Rejection;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.StateMachineException;

/**
 * The node's one mapping from failures to gRPC statuses (with a description for the caller).
 * Only what says a peer could not be reached or did not answer in time (Ratis' transport
 * failing with UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED, no leader, a timeout) is
 * UNAVAILABLE, which callers retry as a network fault; a peer that answered with an error of
 * its own (INTERNAL, UNKNOWN, ...) hit a bug, and that is INTERNAL here too, with the peer's
 * message, so it is logged as one and never relabelled as a network fault.
 */
public final class StatusMapping {
  private StatusMapping() {}

  public static StatusException toStatusException(Throwable t) {
    return toStatus(t).asException();
  }

  public static Status toStatus(Throwable t) {
    if (t instanceof StatusException se) {
      return se.getStatus();
    }
    if (t instanceof StatusRuntimeException sre) {
      return sre.getStatus();
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof StateMachineException) {
        Status s = Rejection.parse(c.getMessage());
        if (s != null) {
          return s;
        }
      }
      if (c instanceof MembershipException me) {
        return (me.retryable() ? Status.UNAVAILABLE : Status.FAILED_PRECONDITION).withDescription(me.getMessage());
      }
      if (c instanceof GroupMismatchException) {
        return Status.NOT_FOUND.withDescription(c.getMessage());
      }
      if (c instanceof AlreadyExistsException) {
        return Status.ALREADY_EXISTS.withDescription(c.getMessage());
      }
      if (c instanceof ReconfigurationInProgressException) {
        return Status.UNAVAILABLE.withDescription("another configuration change is in progress: " + c.getMessage());
      }
      if (c instanceof NotLeaderException || c instanceof LeaderNotReadyException
          || c instanceof TimeoutException || c instanceof InterruptedIOException) {
        return Status.UNAVAILABLE.withDescription("no leader answered: " + c.getMessage());
      }
      if (c instanceof org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException sre) {
        return transport(sre);
      }
      if (c instanceof IllegalArgumentException) {
        return Status.INVALID_ARGUMENT.withDescription(c.getMessage());
      }
    }
    if (t instanceof java.io.IOException) {
      return Status.UNAVAILABLE.withDescription(t.getMessage());
    }
    return Status.INTERNAL.withDescription(String.valueOf(t));
  }

  private static Status transport(org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException e) {
    return switch (e.getStatus().getCode()) {
      case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED ->
          Status.UNAVAILABLE.withDescription("cluster peer unreachable: " + e.getMessage());
      default -> Status.INTERNAL.withDescription("a cluster peer failed the call (a bug there, not a network fault): "
          + e.getMessage());
    };
  }
}
