package io.joinflow.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor.ActivityInput;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor.ActivityOutput;
import io.temporal.common.interceptors.Header;
import io.temporal.failure.ApplicationFailure;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

class ActivityLogInterceptorTest {
  record GroupInput(long nodeId, int groupId) {}

  record MemberInput(long nodeId) {}

  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(ActivityLogInterceptor.class);
  private final Map<String, String> mdcSeen = new HashMap<>();

  @BeforeEach
  void capture() {
    events.start();
    logger.addAppender(events);
    logger.setLevel(Level.INFO);
    logger.setAdditive(false);
  }

  @AfterEach
  void release() {
    logger.detachAppender(events);
    logger.setAdditive(true);
    MDC.clear();
  }

  @Test
  void shouldLogARetryableFailureAsOneLineIdentityFirstAndRethrowItUnchanged() {
    ApplicationFailure failure = ApplicationFailure.newFailureWithCause("no reachable leader for group 3:\n UNAVAILABLE",
        "Unavailable", new IllegalStateException("cause"));

    assertThatThrownBy(() -> run("join/123/4", "addLearner", 2, new GroupInput(4, 3), () -> {
      throw failure;
    })).isSameAs(failure);

    assertThat(events.list).singleElement().satisfies(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getFormattedMessage()).isEqualTo(
          "node 4 join/123/4 addLearner group 3 attempt 2 failed (Unavailable): no reachable leader for group 3: UNAVAILABLE");
      assertThat(e.getThrowableProxy()).as("no stack trace for an activity's own verdict").isNull();
    });
  }

  @Test
  void shouldSayWhenAFailureIsNotRetryable() {
    assertThatThrownBy(() -> run("join/123/4", "validate", 1, new MemberInput(-1L), () -> {
      throw ApplicationFailure.newNonRetryableFailure("wire version 9 is not supported", "FailedPrecondition");
    })).isInstanceOf(ApplicationFailure.class);

    assertThat(events.list).singleElement().extracting(ILoggingEvent::getFormattedMessage).isEqualTo(
        "node 18446744073709551615 join/123/4 validate attempt 1 failed (FailedPrecondition, not retryable):"
            + " wire version 9 is not supported");
  }

  @Test
  void shouldKeepTheStackTraceOfABug() {
    NullPointerException bug = new NullPointerException("leader");

    assertThatThrownBy(() -> run("promote/123/4", "promoteVoter", 1, new GroupInput(4, 7), () -> {
      throw bug;
    })).isSameAs(bug);

    assertThat(events.list).singleElement().satisfies(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.ERROR);
      assertThat(e.getFormattedMessage()).startsWith("node 4 promote/123/4 promoteVoter group 7 attempt 1 failed unexpectedly");
      assertThat(e.getThrowableProxy().getClassName()).isEqualTo(NullPointerException.class.getName());
    });
  }

  @Test
  void shouldPutTheIdentityInTheMdcWhileTheAttemptRunsOnly() {
    MDC.put(ActivityLogInterceptor.NODE, "outer");

    run("join/123/4", "awaitLearner", 1, new GroupInput(4, 0), () -> {
      mdcSeen.putAll(MDC.getCopyOfContextMap());
      return null;
    });

    assertThat(mdcSeen).containsEntry(ActivityLogInterceptor.NODE, "4")
        .containsEntry(ActivityLogInterceptor.WORKFLOW, "join/123/4")
        .containsEntry(ActivityLogInterceptor.GROUP, "0");
    assertThat(MDC.getCopyOfContextMap()).containsOnly(Map.entry(ActivityLogInterceptor.NODE, "outer"));
    assertThat(events.list).as("a first attempt that succeeds says nothing").isEmpty();
  }

  @Test
  void shouldSayWhenARetriedAttemptSucceeds() {
    run("join/123/4", "persist", 3, new MemberInput(4), () -> null);

    assertThat(events.list).singleElement().extracting(ILoggingEvent::getFormattedMessage)
        .isEqualTo("node 4 join/123/4 persist attempt 3 succeeded");
  }

  private void run(String workflowId, String activityType, int attempt, Object input, Supplier<Object> body) {
    ActivityInfo info = mock(ActivityInfo.class);
    when(info.getWorkflowId()).thenReturn(workflowId);
    when(info.getActivityType()).thenReturn(activityType);
    when(info.getAttempt()).thenReturn(attempt);
    ActivityExecutionContext context = mock(ActivityExecutionContext.class);
    when(context.getInfo()).thenReturn(info);
    ActivityInboundCallsInterceptor root = new ActivityInboundCallsInterceptor() {
      @Override
      public void init(ActivityExecutionContext context) {}

      @Override
      public ActivityOutput execute(ActivityInput input) {
        return new ActivityOutput(body.get());
      }
    };
    ActivityInboundCallsInterceptor inbound = new ActivityLogInterceptor().interceptActivity(root);
    inbound.init(context);
    inbound.execute(new ActivityInput(Header.empty(), new Object[] {input}));
  }
}
