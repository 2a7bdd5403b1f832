package io.joinflow.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replays histories recorded by a real Temporal server (the Temporal CLI's dev server, server
 * 1.32), not the in-memory test server: they carry what only a real server writes (user
 * metadata of every activity, last failures, worker identities, search attribute upserts as the
 * server records them). Recorded by cli's {@code RealTemporalIT} with
 * {@code -Djoinflow.histories.write=true}; a failure here means the workflow change needs a
 * {@code Workflow.getVersion} branch.
 */
class RealHistoryReplayTest {
  static final String JOIN = "real-join-success.json";
  static final String COMPENSATED = "real-join-compensated.json";
  static final String PROMOTE = "real-promote-success.json";
  // Recorded with join steps version 3 and promotion steps version 1.
  static final String JOIN_V3 = "real-join-v3-success.json";
  static final String COMPENSATED_V3 = "real-join-v3-compensated.json";
  static final String PROMOTE_V1 = "real-promote-v1-success.json";
  // Promotion steps version 2: started by the gateway with the membership of the join before it.
  static final String PROMOTE_V2 = "real-promote-v2-success.json";
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
  @ValueSource(strings = {JOIN, COMPENSATED, PROMOTE, JOIN_V3, COMPENSATED_V3, PROMOTE_V1, PROMOTE_V2})
  void shouldReplayARealServersHistory(String fixture) throws Exception {
    Worker worker = env.newWorker("real-replay-" + WORKERS.incrementAndGet(), WorkerOptions.newBuilder()
        .setDefaultDeadlockDetectionTimeout(JoinTestServer.DEADLOCK_DETECTION_MILLIS)
        .build());
    worker.registerWorkflowImplementationTypes(JoinWorkflowImpl.class, PromoteWorkflowImpl.class,
        LeaveWorkflowImpl.class);
    WorkflowReplayer.replayWorkflowExecutionFromResource("histories/" + fixture, worker);
  }

  @Test
  void theJoinFixtureIsARealServersSuccessfulJoin() throws IOException {
    WorkflowExecutionHistory h = load(JOIN);
    List<HistoryEvent> events = h.getEvents();
    assertThat(events.get(0).getWorkflowExecutionStartedEventAttributes().getWorkflowType().getName())
        .isEqualTo("JoinWorkflow");
    // A real server stores the start's static summary and every activity's summary.
    assertThat(events.get(0).hasUserMetadata()).isTrue();
    assertThat(events).filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .allSatisfy(e -> assertThat(e.getUserMetadata().hasSummary()).isTrue());
    assertThat(scheduled(events)).contains("validate", "registerPeer", "admit", "addLearner", "awaitLearner",
        "persist", "broadcast").doesNotContain("removeLearner");
    assertThat(events.get(events.size() - 1).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void theVersion3JoinFixturePreparedAndFinishedInOneActivityEach() throws IOException {
    List<HistoryEvent> events = load(JOIN_V3).getEvents();
    assertThat(events).filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .allSatisfy(e -> assertThat(e.getUserMetadata().hasSummary()).isTrue());
    assertThat(scheduled(events).stream().distinct()).containsExactly("prepare", "addLearner", "awaitLearner", "finish");
    assertThat(events.get(events.size() - 1).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void thePromotionFixtureOfVersion1WaitedAndPromotedInOneActivityPerGroup() throws IOException {
    List<String> types = scheduled(load(PROMOTE_V1).getEvents());
    assertThat(types.stream().distinct()).containsExactly("describeMember", "catchUpAndPromote", "settleMember");
  }

  @Test
  void thePromotionFixtureOfVersion2StartedOnTheGroupsItsJoinHandedOver() throws IOException {
    List<String> types = scheduled(load(PROMOTE_V2).getEvents());
    assertThat(types).doesNotContain("describeMember").contains("settleMember");
  }

  @ParameterizedTest
  @ValueSource(strings = {COMPENSATED, COMPENSATED_V3})
  void theCompensatedFixtureUndidEveryGroupAndEvictedTheNode(String fixture) throws IOException {
    List<HistoryEvent> events = load(fixture).getEvents();
    List<String> types = scheduled(events);
    assertThat(types).contains("addLearner", "removeLearner", "evict").doesNotContain("persist", "finish");
    assertThat(types.get(types.size() - 1)).isEqualTo("broadcast");
    // The deadline timer fired; the workflow itself completed (success=false).
    assertThat(events).anySatisfy(e -> assertThat(e.getEventType()).isEqualTo(EventType.EVENT_TYPE_TIMER_FIRED));
    assertThat(events.get(events.size() - 1).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  @Test
  void thePromotionFixturePromotedEveryGroup() throws IOException {
    List<HistoryEvent> events = load(PROMOTE).getEvents();
    assertThat(events.get(0).getWorkflowExecutionStartedEventAttributes().getWorkflowType().getName())
        .isEqualTo("PromoteWorkflow");
    assertThat(scheduled(events)).contains("describeMember", "promoteVoter", "setMemberState");
    assertThat(events.get(events.size() - 1).getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }

  private static List<String> scheduled(List<HistoryEvent> events) {
    return events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName()).toList();
  }

  private static WorkflowExecutionHistory load(String fixture) throws IOException {
    try (InputStream in = RealHistoryReplayTest.class.getResourceAsStream("/histories/" + fixture)) {
      assertThat(in).as("fixture %s (record it with RealTemporalIT -D%s=true)", fixture, "joinflow.histories.write")
          .isNotNull();
      return WorkflowExecutionHistory.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }
}
