package io.joinflow.activities;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.workflows.JoinFailures;
import io.temporal.failure.ApplicationFailure;

/**
 * The activities' one mapping from gRPC statuses to Temporal failures. A status that says the
 * request contradicts the cluster becomes a non-retryable {@link ApplicationFailure} typed with
 * the matching {@link JoinFailures} constant; a status that may clear up by itself becomes a
 * retryable {@link JoinFailures#UNAVAILABLE}. The status description is the failure message
 * unchanged: it is the sentence an operator reads in the join's result and in the Temporal UI.
 *
 * <p>Activities also express their own rejections as statuses and map them here, so every
 * failure a join sees is typed the same way whether a node or an activity refused.
 */
public final class NodeAdminFailures {

  private NodeAdminFailures() {}

  /** Runs a NodeAdmin call; a status it ends with is thrown as the matching failure. */
  public static <T> T rpc(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw of(e);
    }
  }

  /** The failure for a status a NodeAdmin call ended with. */
  public static ApplicationFailure of(StatusRuntimeException e) {
    return of(e.getStatus(), e);
  }

  /** The failure for a status; its cause (if any) travels with the failure for debugging. */
  public static ApplicationFailure of(Status status) {
    return of(status, status.getCause());
  }

  private static ApplicationFailure of(Status status, Throwable cause) {
    String message = status.getDescription() != null && !status.getDescription().isBlank()
        ? status.getDescription()
        : status.getCode().name();
    String type = typeOf(status.getCode());
    return retryable(status.getCode())
        ? ApplicationFailure.newFailureWithCause(message, type, cause)
        : ApplicationFailure.newNonRetryableFailureWithCause(message, type, cause);
  }

  /**
   * An activity's own refusal: the failure a node would cause answering {@code status} with
   * {@code description}. The activities' one way to refuse.
   */
  public static ApplicationFailure reject(Status status, String description) {
    return of(status.withDescription(description));
  }

  /** The {@link JoinFailures} type of a status code. */
  public static String typeOf(Status.Code code) {
    return switch (code) {
      // OUT_OF_RANGE is a malformed request as far as a join is concerned.
      case INVALID_ARGUMENT, OUT_OF_RANGE -> JoinFailures.INVALID_ARGUMENT;
      case ALREADY_EXISTS -> JoinFailures.ALREADY_EXISTS;
      // A node that does not implement a call speaks another version: retrying cannot help.
      case FAILED_PRECONDITION, UNIMPLEMENTED -> JoinFailures.FAILED_PRECONDITION;
      case NOT_FOUND -> JoinFailures.NOT_FOUND;
      // UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN and the
      // rest: a leader change, an overloaded or restarting node, a broken connection.
      default -> JoinFailures.UNAVAILABLE;
    };
  }

  /** Whether Temporal should retry a failure with this code. */
  public static boolean retryable(Status.Code code) {
    return JoinFailures.UNAVAILABLE.equals(typeOf(code));
  }
}
