package io.joinflow.workflows;

import static io.joinflow.workflows.MembershipHistoryFixturesTest.CURRENT_PROMOTE_DESCRIBED;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.CURRENT_PROMOTE_NOT_CAUGHT_UP;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.CURRENT_PROMOTE_NO_WINDOW;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.CURRENT_PROMOTE_SUCCESS;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.LEAVE_SUCCESS;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.PROMOTE_NOT_CAUGHT_UP;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.PROMOTE_SUCCESS;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.V1_PROMOTE_NOT_CAUGHT_UP;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.V1_PROMOTE_NO_WINDOW;
import static io.joinflow.workflows.MembershipHistoryFixturesTest.V1_PROMOTE_SUCCESS;
import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.enums.v1.EventType;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replays the committed promotion and leave histories against the current implementations: a
 * failure means the change needs a {@code Workflow.getVersion} branch, not new fixtures.
 */
class MembershipReplayTest {
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
  @ValueSource(strings = {PROMOTE_SUCCESS, PROMOTE_NOT_CAUGHT_UP, V1_PROMOTE_SUCCESS, V1_PROMOTE_NOT_CAUGHT_UP,
      V1_PROMOTE_NO_WINDOW, CURRENT_PROMOTE_SUCCESS, CURRENT_PROMOTE_NOT_CAUGHT_UP, CURRENT_PROMOTE_NO_WINDOW,
      CURRENT_PROMOTE_DESCRIBED})
  void shouldReplayCommittedPromotion(String fixture) throws Exception {
    replay(fixture, PromoteWorkflowImpl.class);
  }

  @Test
  void shouldReplayCommittedLeave() throws Exception {
    replay(LEAVE_SUCCESS, LeaveWorkflowImpl.class);
  }

  @Test
  void promoteFixtureAwaitsThenPromotesEveryGroupThenPersistsAndBroadcasts() throws IOException {
    JoinHistory history = new JoinHistory(load(PROMOTE_SUCCESS));

    assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
        .containsExactly("describeMember", "awaitLearner", "promoteVoter", "setMemberState", "broadcast");
    assertThat(history.scheduled("awaitLearner")).extracting(JoinHistory.Activity::group)
        .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(0, 8).boxed().toList());
    assertThat(history.scheduled("promoteVoter")).hasSize(9);
    assertThat(history.events().stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_FIRED))
        .as("one stabilization window per group").hasSize(9);
    assertThat(last(history)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void v1PromoteFixtureSettlesInOneActivity() throws IOException {
    JoinHistory history = new JoinHistory(load(V1_PROMOTE_SUCCESS));

    assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
        .containsExactly("describeMember", "awaitLearner", "promoteVoter", "settleMember");
    assertThat(history.scheduled("promoteVoter")).hasSize(9);
    assertThat(history.events().stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_FIRED))
        .as("one stabilization window per group").hasSize(9);
    assertThat(last(history)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void currentPromoteFixtureStartsOnTheGroupsItWasHanded() throws IOException {
    JoinHistory history = new JoinHistory(load(CURRENT_PROMOTE_SUCCESS));

    assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
        .containsExactly("awaitLearner", "promoteVoter", "settleMember");
    assertThat(history.scheduled("promoteVoter")).hasSize(9);
    assertThat(history.events().stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_FIRED))
        .as("one stabilization window per group").hasSize(9);
    assertThat(last(history)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @ParameterizedTest
  @ValueSource(strings = {V1_PROMOTE_NO_WINDOW, CURRENT_PROMOTE_DESCRIBED})
  void noWindowFixtureWaitsAndPromotesInOneActivityPerGroup(String fixture) throws IOException {
    JoinHistory history = new JoinHistory(load(fixture));

    assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
        .containsExactly("describeMember", "catchUpAndPromote", "settleMember");
    assertThat(history.scheduled("catchUpAndPromote")).extracting(JoinHistory.Activity::group)
        .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(0, 8).boxed().toList());
    assertThat(history.events().stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED)).isEmpty();
    assertThat(last(history)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void currentNoWindowFixtureNeedsOneActivityPerGroupAndTheSettleOnly() throws IOException {
    JoinHistory history = new JoinHistory(load(CURRENT_PROMOTE_NO_WINDOW));

    assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
        .containsExactly("catchUpAndPromote", "settleMember");
    assertThat(history.scheduled("catchUpAndPromote")).hasSize(9);
    assertThat(last(history)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @ParameterizedTest
  @ValueSource(strings = {PROMOTE_NOT_CAUGHT_UP, V1_PROMOTE_NOT_CAUGHT_UP, CURRENT_PROMOTE_NOT_CAUGHT_UP})
  void notCaughtUpFixtureNeverPromotesTheLaggingGroup(String fixture) throws IOException {
    JoinHistory history = new JoinHistory(load(fixture));

    assertThat(history.scheduled("promoteVoter")).hasSize(8);
    assertThat(history.scheduled("awaitLearner")).hasSize(9);
    assertThat(last(history)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void leaveFixtureDrainsRemovesGroupZeroLastThenDecommissions() throws IOException {
    JoinHistory history = new JoinHistory(load(LEAVE_SUCCESS));

    List<String> types = history.scheduled().stream().map(JoinHistory.Activity::type).toList();
    assertThat(types.get(0)).isEqualTo("planLeave");
    assertThat(types.get(1)).isEqualTo("setMemberState");
    assertThat(types.subList(types.size() - 4, types.size()))
        .containsExactly("moveLeadership", "removeMember", "setMemberState", "broadcast");
    List<JoinHistory.Activity> removals = history.scheduled("removeMember");
    assertThat(removals).hasSize(9);
    assertThat(removals.get(removals.size() - 1).group()).isZero();
  }

  private static void replay(String fixture, Class<?> implementation) throws Exception {
    Worker worker = env.newWorker("replay-membership-" + WORKERS.incrementAndGet(), WorkerOptions.newBuilder()
        .setDefaultDeadlockDetectionTimeout(JoinTestServer.DEADLOCK_DETECTION_MILLIS)
        .build());
    worker.registerWorkflowImplementationTypes(implementation);
    WorkflowReplayer.replayWorkflowExecutionFromResource("histories/" + fixture, worker);
  }

  private static WorkflowExecutionHistory load(String fixture) throws IOException {
    try (InputStream in = MembershipReplayTest.class.getResourceAsStream("/histories/" + fixture)) {
      assertThat(in).as("fixture %s", fixture).isNotNull();
      return WorkflowExecutionHistory.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static EventType last(JoinHistory history) {
    return history.events().get(history.events().size() - 1).getEventType();
  }
}
