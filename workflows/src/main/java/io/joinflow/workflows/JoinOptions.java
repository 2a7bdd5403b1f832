package io.joinflow.workflows;

/**
 * Tunables of one join.
 *
 * @param deadlineMillis the whole join's deadline; past it, the join compensates
 * @param fanOut how many groups get their learner added at once (waiting for the learners is not bounded)
 */
public record JoinOptions(long deadlineMillis, int fanOut) {
  public static final long DEFAULT_DEADLINE_MILLIS = 120_000;
  public static final int DEFAULT_FAN_OUT = 16;

  public static JoinOptions defaults() {
    return new JoinOptions(DEFAULT_DEADLINE_MILLIS, DEFAULT_FAN_OUT);
  }
}
