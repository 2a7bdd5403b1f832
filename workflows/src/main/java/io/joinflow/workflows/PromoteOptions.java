package io.joinflow.workflows;

/**
 * Tunables of one promotion.
 *
 * @param stabilizationMillis how long a caught-up learner must stay caught up before it is
 *     promoted; {@code promoteNow} skips what is left of it
 * @param catchUpDeadlineMillis how long (from the start of the promotion) a learner may take to
 *     catch up; a group whose learner has not caught up by then keeps it as a learner
 * @param maxVoters the most voters per group (0 = no limit: the node votes everywhere)
 * @param fanOut how many per-group steps run at once
 */
public record PromoteOptions(long stabilizationMillis, long catchUpDeadlineMillis, int maxVoters, int fanOut) {
  public static final long DEFAULT_STABILIZATION_MILLIS = 2_000;
  public static final long DEFAULT_CATCH_UP_DEADLINE_MILLIS = 120_000;
  public static final int DEFAULT_FAN_OUT = 16;

  public static PromoteOptions defaults() {
    return new PromoteOptions(DEFAULT_STABILIZATION_MILLIS, DEFAULT_CATCH_UP_DEADLINE_MILLIS, 0, DEFAULT_FAN_OUT);
  }

  /** These options with another voters-per-group limit. */
  public PromoteOptions withMaxVoters(int limit) {
    return new PromoteOptions(stabilizationMillis, catchUpDeadlineMillis, limit, fanOut);
  }

  /** Unset (non-positive) values replaced by the defaults; a negative limit is no limit. */
  public static PromoteOptions effective(PromoteOptions o) {
    if (o == null) {
      return defaults();
    }
    return new PromoteOptions(o.stabilizationMillis() >= 0 ? o.stabilizationMillis() : DEFAULT_STABILIZATION_MILLIS,
        o.catchUpDeadlineMillis() > 0 ? o.catchUpDeadlineMillis() : DEFAULT_CATCH_UP_DEADLINE_MILLIS,
        Math.max(0, o.maxVoters()), o.fanOut() > 0 ? o.fanOut() : DEFAULT_FAN_OUT);
  }
}
