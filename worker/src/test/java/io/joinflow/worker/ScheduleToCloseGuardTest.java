package io.joinflow.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.activity.ActivityInfo;
import io.temporal.failure.ApplicationFailure;
import java.lang.reflect.Proxy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScheduleToCloseGuardTest {
  /** An activity scheduled at t=10 000 ms with this schedule-to-close timeout, on attempt 7. */
  private static ActivityInfo info(Duration scheduleToClose) {
    return (ActivityInfo) Proxy.newProxyInstance(ActivityInfo.class.getClassLoader(), new Class<?>[] {ActivityInfo.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "getScheduleToCloseTimeout" -> scheduleToClose;
          case "getScheduledTimestamp" -> 10_000L;
          case "getAttempt" -> 7;
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  @Test
  void shouldTellWhetherTheScheduleToCloseTimeoutPassed() {
    ActivityInfo info = info(Duration.ofSeconds(25));
    assertThat(ScheduleToCloseGuard.expired(info, 34_999)).isFalse();
    assertThat(ScheduleToCloseGuard.expired(info, 35_000)).isTrue();
    assertThat(ScheduleToCloseGuard.expired(info(Duration.ZERO), Long.MAX_VALUE)).as("no timeout set").isFalse();
  }

  @Test
  void shouldEndTheRetriesWithTheOriginalTypeAndMessage() {
    ApplicationFailure retryable = ApplicationFailure.newFailure("node 6 cannot host group 2", "Unavailable");
    ApplicationFailure last = ScheduleToCloseGuard.finalFailure(retryable, info(Duration.ofSeconds(25)));
    assertThat(last.isNonRetryable()).isTrue();
    assertThat(last.getType()).isEqualTo("Unavailable");
    assertThat(last.getOriginalMessage()).startsWith("node 6 cannot host group 2")
        .contains("attempt 7").contains("schedule-to-close timeout of 25000 ms passed");
    assertThat(last.getCause()).isSameAs(retryable);

    ApplicationFailure bug = ScheduleToCloseGuard.finalFailure(new IllegalStateException("oops"),
        info(Duration.ofSeconds(1)));
    assertThat(bug.getType()).isEqualTo(IllegalStateException.class.getName());
    assertThat(bug.isNonRetryable()).isTrue();

    ApplicationFailure already = ApplicationFailure.newNonRetryableFailure("refused", "InvalidArgument");
    assertThat(ScheduleToCloseGuard.finalFailure(already, info(Duration.ofSeconds(1)))).isSameAs(already);
  }
}
