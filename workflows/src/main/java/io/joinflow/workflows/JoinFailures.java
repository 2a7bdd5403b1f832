package io.joinflow.workflows;

/**
 * Failure types of join activities. The first four are non-retryable rejections: the request
 * contradicts the cluster and retrying cannot help. {@link #UNAVAILABLE} is retried.
 */
public final class JoinFailures {
  public static final String INVALID_ARGUMENT = "InvalidArgument";
  public static final String ALREADY_EXISTS = "AlreadyExists";
  public static final String FAILED_PRECONDITION = "FailedPrecondition";
  public static final String NOT_FOUND = "NotFound";
  public static final String UNAVAILABLE = "Unavailable";

  /** Types the workflow's retry policies never retry. */
  public static final String[] NON_RETRYABLE = {INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION, NOT_FOUND};

  private JoinFailures() {}
}
