package io.joinflow.workflows;

import static io.joinflow.workflows.JoinHistoryFixturesTest.COMPENSATED;
import static io.joinflow.workflows.JoinHistoryFixturesTest.CURRENT_COMPENSATED;
import static io.joinflow.workflows.JoinHistoryFixturesTest.CURRENT_RETRIED;
import static io.joinflow.workflows.JoinHistoryFixturesTest.CURRENT_SUCCESS;
import static io.joinflow.workflows.JoinHistoryFixturesTest.RETRIED;
import static io.joinflow.workflows.JoinHistoryFixturesTest.SUCCESS;
import static io.joinflow.workflows.JoinHistoryFixturesTest.V2_COMPENSATED;
import static io.joinflow.workflows.JoinHistoryFixturesTest.V2_RETRIED;
import static io.joinflow.workflows.JoinHistoryFixturesTest.V2_SUCCESS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.ActivityTaskStartedEventAttributes;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replays the committed histories against {@link JoinWorkflowImpl}: every join that ran with
 * published code must still replay with the current code. A failure here means the change
 * needs a {@code Workflow.getVersion} branch, not new fixtures.
 */
class JoinReplayTest {
  private static final AtomicInteger WORKERS = new AtomicInteger();
  private static TestWorkflowEnvironment env;

  @BeforeAll
  static void startEnvironment() {
    env = TestWorkflowEnvironment.newInstance();
  }

  @AfterAll
  static void closeEnvironment() {
    env.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {SUCCESS, RETRIED, COMPENSATED, V2_SUCCESS, V2_RETRIED, V2_COMPENSATED, CURRENT_SUCCESS,
      CURRENT_RETRIED, CURRENT_COMPENSATED})
  void shouldReplayCommittedHistory(String fixture) throws Exception {
    replay(fixture, JoinWorkflowImpl.class);
  }

  @Test
  void shouldFailToReplayWhenStepsAreReordered() {
    Throwable failure = catchThrowable(() -> replay(SUCCESS, ReorderedJoinWorkflowImpl.class));

    assertThat(failure).as("replaying with admit before registerPeer").isNotNull();
    assertThat(messages(failure)).anySatisfy(m -> assertThat(m).containsAnyOf("[TMPRL1100]", "NonDeterministic"));
    // ...and for the right reason: the first diverging command is the moved step.
    assertThat(String.join("\n", messages(failure))).contains("\"admit\"", "\"registerPeer\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {SUCCESS, V2_SUCCESS, CURRENT_SUCCESS})
  void successFixtureJoinsEightDataGroups(String fixture) throws IOException {
    JoinHistory history = new JoinHistory(load(fixture));

    if (fixture.equals(CURRENT_SUCCESS)) {
      // Since version 3, prepare and finish stand for validate + registerPeer + admit and persist + broadcast.
      assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
          .containsExactly("prepare", "addLearner", "awaitLearner", "finish");
    } else {
      assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
          .containsExactly("validate", "registerPeer", "admit", "addLearner", "awaitLearner", "persist", "broadcast");
    }
    assertThat(history.scheduled("addLearner")).extracting(JoinHistory.Activity::group)
        .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(0, 8).boxed().toList());
    assertThat(history.scheduled("removeLearner")).isEmpty();
    assertThat(lastEventType(history)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @ParameterizedTest
  @ValueSource(strings = {RETRIED, V2_RETRIED, CURRENT_RETRIED})
  void retriedFixtureRetriesAddLearnerAfterLeaderChange(String fixture) throws IOException {
    JoinHistory history = new JoinHistory(load(fixture));

    List<ActivityTaskStartedEventAttributes> retried = new ArrayList<>();
    for (HistoryEvent e : history.events()) {
      if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
          && e.getActivityTaskStartedEventAttributes().getAttempt() > 1) {
        retried.add(e.getActivityTaskStartedEventAttributes());
      }
    }
    assertThat(retried).singleElement().satisfies(started -> {
      assertThat(started.getAttempt()).isEqualTo(2);
      JoinHistory.Activity activity = history.activity(started.getScheduledEventId());
      assertThat(activity.type()).isEqualTo("addLearner");
      assertThat(activity.group()).isEqualTo(5);
      // The in-memory server does not record the last failure of a retried activity; a real
      // server's history carries the leader-change message here.
      if (started.hasLastFailure()) {
        assertThat(started.getLastFailure().getMessage()).contains("leader changed");
      }
    });
    assertThat(history.scheduled("removeLearner")).isEmpty();
    assertThat(lastEventType(history)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @ParameterizedTest
  @ValueSource(strings = {COMPENSATED, V2_COMPENSATED, CURRENT_COMPENSATED})
  void compensatedFixtureUndoesThenEvictsThenBroadcasts(String fixture) throws IOException {
    JoinHistory history = new JoinHistory(load(fixture));

    List<Integer> added = history.scheduled("addLearner").stream().map(JoinHistory.Activity::group).toList();
    List<Integer> removed = history.scheduled("removeLearner").stream().map(JoinHistory.Activity::group).toList();
    assertThat(added).contains(5);
    if (fixture.equals(COMPENSATED)) {
      // Version 1 undoes the groups it reached.
      assertThat(removed).containsExactlyInAnyOrderElementsOf(added);
    } else {
      // Since version 2, every group, in reverse: an earlier run may have reached the others.
      assertThat(removed).containsExactly(8, 7, 6, 5, 4, 3, 2, 1, 0);
    }
    assertThat(history.scheduled("persist")).isEmpty();
    assertThat(history.scheduled("finish")).isEmpty();
    List<String> tail = history.scheduled().stream()
        .skip(history.scheduled().size() - removed.size() - 2L)
        .map(JoinHistory.Activity::type)
        .toList();
    assertThat(tail.subList(0, removed.size())).containsOnly("removeLearner");
    assertThat(tail.subList(removed.size(), tail.size())).containsExactly("evict", "broadcast");
  }

  private static void replay(String fixture, Class<?> implementation) throws Exception {
    // A worker of our own rather than the class-only overload: replays on a loaded machine can
    // stall a workflow thread past the 1 s deadlock detection default.
    Worker worker = env.newWorker("replay-" + WORKERS.incrementAndGet(), WorkerOptions.newBuilder()
        .setDefaultDeadlockDetectionTimeout(JoinTestServer.DEADLOCK_DETECTION_MILLIS)
        .build());
    worker.registerWorkflowImplementationTypes(implementation);
    WorkflowReplayer.replayWorkflowExecutionFromResource("histories/" + fixture, worker);
  }

  private static WorkflowExecutionHistory load(String fixture) throws IOException {
    try (InputStream in = JoinReplayTest.class.getResourceAsStream("/histories/" + fixture)) {
      assertThat(in).as("fixture %s", fixture).isNotNull();
      return WorkflowExecutionHistory.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static EventType lastEventType(JoinHistory history) {
    return history.events().get(history.events().size() - 1).getEventType();
  }

  private static List<String> messages(Throwable failure) {
    List<String> messages = new ArrayList<>();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      messages.add(String.valueOf(t.getMessage()));
      messages.add(t.getClass().getName());
    }
    return messages;
  }
}
