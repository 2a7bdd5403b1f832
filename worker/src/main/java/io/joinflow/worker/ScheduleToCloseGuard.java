package io.joinflow.worker;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Ends an activity's retries once its schedule-to-close timeout has passed, as a real Temporal
 * server does: an attempt that fails after it fails for good (non-retryable, with the original
 * failure type and message).
 *
 * <p>The in-memory test server (the embedded Temporal) does not always do it: it checks a retry
 * against the expiration only when the expiration timestamp has a non-zero nanosecond part, and
 * its schedule-to-close timer ignores an activity past its first attempt (read in
 * temporal-test-server 1.38.0, {@code TestServiceRetryState.getBackoffIntervalInSeconds} and
 * {@code TestWorkflowMutableStateImpl.timeoutActivity}). About one activity in a thousand then
 * retries forever, and a join whose step keeps failing never reaches its compensation. On a real
 * server the server times the activity out first, so this never acts there.
 */
final class ScheduleToCloseGuard extends WorkerInterceptorBase {
  private final LongSupplier clock;

  ScheduleToCloseGuard() {
    this(System::currentTimeMillis);
  }

  ScheduleToCloseGuard(LongSupplier clock) {
    this.clock = clock;
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new Inbound(next);
  }

  private final class Inbound extends ActivityInboundCallsInterceptorBase {
    private ActivityInfo info;

    Inbound(ActivityInboundCallsInterceptor next) {
      super(next);
    }

    @Override
    public void init(ActivityExecutionContext context) {
      info = context.getInfo();
      super.init(context);
    }

    @Override
    public ActivityOutput execute(ActivityInput input) {
      try {
        return super.execute(input);
      } catch (RuntimeException e) {
        throw expired(info, clock.getAsLong()) ? finalFailure(e, info) : e;
      }
    }
  }

  /** Whether the activity's schedule-to-close timeout (if it has one) has passed at {@code nowMillis}. */
  static boolean expired(ActivityInfo info, long nowMillis) {
    Duration stc = info.getScheduleToCloseTimeout();
    return stc != null && !stc.isZero() && !stc.isNegative()
        && nowMillis >= info.getScheduledTimestamp() + stc.toMillis();
  }

  static ApplicationFailure finalFailure(RuntimeException e, ActivityInfo info) {
    if (e instanceof ApplicationFailure app && app.isNonRetryable()) {
      return app;
    }
    String type = e instanceof ApplicationFailure app ? app.getType() : e.getClass().getName();
    String message = e instanceof ApplicationFailure app ? app.getOriginalMessage() : String.valueOf(e.getMessage());
    return ApplicationFailure.newNonRetryableFailureWithCause(message + " (attempt " + info.getAttempt()
        + "; its schedule-to-close timeout of " + info.getScheduleToCloseTimeout().toMillis() + " ms passed)",
        type, e);
  }
}
