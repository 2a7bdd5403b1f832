package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.StatusRuntimeException;
import io.joinflow.node.Node;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GetPromotionRequest;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.Role;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.worker.TemporalConnection;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.JoinResult;
import io.joinflow.workflows.JoinWorkflow;
import io.joinflow.workflows.PromoteOptions;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.filter.v1.WorkflowExecutionFilter;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Durability of the join itself, through the real stack in one process (embedded Temporal,
 * gateway, real nodes with Ratis and RocksDB): a worker killed in the middle of an activity or
 * of a workflow task, a gateway restarted while a node waits for its answer, and an embedded
 * Temporal server that lost every workflow while a join was half done, with the joining node
 * alive or dead. Each test starts its own three-node cluster (nodes 2 and 3 joined and
 * promoted) and joins node 4, through the node's own join client unless the node dies; workers
 * that must stop mid-join are {@link CrashableWorker}s held at a {@link WorkerCheckpoint}.
 * Checked after each run: the node is in every group and LEARNER/ACTIVE, or in none and absent
 * from the topology; every group has a leader and group 0's routing equals its configuration;
 * the join's workflow ran once on the Temporal that finished it (a lost Temporal's run aside);
 * and the node's client got one final answer.
 */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JoinDurabilityIT {
  private static final int DATA_GROUPS = 3;
  private static final long JOINING = 4;
  private static final Duration HOLD_WAIT = Duration.ofSeconds(60);
  private static final Duration ANSWER_WAIT = Duration.ofMinutes(2);
  /** Room for a lost task's 10 s timeout on a busy machine. */
  private static final long WORKER_CRASH_DEADLINE_MS = 45_000;
  private static final long RESTART_DEADLINE_MS = 20_000;

  private FaultyDevCluster cluster;
  private Path dir;
  private GatewayCallers callers;
  private final List<CrashableWorker> workers = new ArrayList<>();
  private final List<String> clientLog = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void makeDir() throws Exception {
    dir = Files.createTempDirectory("joinflow-durability-it");
  }

  /**
   * Starts the cluster with this join deadline. No stabilization window: nodes 2 and 3 become
   * voters right after joining, so each test starts from three voters per group with nothing
   * running. One group at a time: while a worker holds a checkpoint no other step of the join
   * is in flight, so killing it loses exactly the held task. (addLearner, persist and the other
   * changing steps have no heartbeat timeout: a worker dying in one of them delays the join by
   * that step's start-to-close timeout, 30-60 s, which a test with parallel groups would hit at
   * random.)
   */
  private void startCluster(long deadlineMillis) throws Exception {
    cluster = FaultyDevCluster.start(new DevCluster.Settings(3, DATA_GROUPS, Ports.freeBase(60), dir,
        new JoinOptions(deadlineMillis, 1)).withPromoteOptions(new PromoteOptions(0, 30_000, 0, 16))
            // Its Joins are about losing roles mid-join; tokens are JoinTokenIT's and DevSecurityIT's.
            .withJoinTokensOptional(),
        line -> System.out.println("[dev] " + line));
    callers = new GatewayCallers(cluster);
    awaitPromoted(2);
    awaitPromoted(3);
    // Checkpoints live in test workers; the cluster's own worker would take tasks past them.
    cluster.stopWorker();
  }

  @AfterEach
  void stop() {
    for (CrashableWorker w : workers) {
      w.close();
    }
    if (callers != null) {
      callers.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    DevCluster.deleteRecursively(dir);
  }

  @Test
  void shouldFinishTheJoinOnAnotherWorkerWhenItsWorkerDiesMidActivity() throws Exception {
    startCluster(WORKER_CRASH_DEADLINE_MS);
    WorkerCheckpoint awaiting = WorkerCheckpoint.beforeActivity("awaitLearner");
    Run run = joinKillingTheWorkerAt(awaiting);

    // The attempt the dead worker held timed out (heartbeat) and ran again on the survivor.
    List<HistoryEvent> history = history(run.answer());
    HistoryEvent scheduled = only(history, e -> e.hasActivityTaskScheduledEventAttributes()
        && e.getActivityTaskScheduledEventAttributes().getActivityId().equals(awaiting.activityId()));
    HistoryEvent started = only(history, e -> e.hasActivityTaskStartedEventAttributes()
        && e.getActivityTaskStartedEventAttributes().getScheduledEventId() == scheduled.getEventId());
    assertThat(started.getActivityTaskStartedEventAttributes().getAttempt()).isGreaterThanOrEqualTo(2);
    assertThat(started.getActivityTaskStartedEventAttributes().getIdentity()).isEqualTo(run.survivor());
    HistoryEvent completed = only(history, e -> e.hasActivityTaskCompletedEventAttributes()
        && e.getActivityTaskCompletedEventAttributes().getScheduledEventId() == scheduled.getEventId());
    assertThat(completed.getActivityTaskCompletedEventAttributes().getIdentity()).isEqualTo(run.survivor());
    assertJoinedEverywhere();
  }

  @Test
  void shouldFinishTheJoinOnAnotherWorkerWhenItsWorkerDiesMidWorkflowTask() throws Exception {
    startCluster(WORKER_CRASH_DEADLINE_MS);
    // Held inside the workflow task that schedules finish (persist + broadcast), after every learner caught up.
    WorkerCheckpoint persisting = WorkerCheckpoint.schedulingActivity("finish");
    Run run = joinKillingTheWorkerAt(persisting);

    // The task the dead worker held timed out; the survivor's retry scheduled finish.
    List<HistoryEvent> history = history(run.answer());
    List<HistoryEvent> timedOut = history.stream()
        .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).toList();
    assertThat(timedOut).as("the workflow task the dead worker held").isNotEmpty();
    Set<String> timedOutHolders = new HashSet<>();
    for (HistoryEvent t : timedOut) {
      long startedId = t.getWorkflowTaskTimedOutEventAttributes().getStartedEventId();
      timedOutHolders.add(event(history, startedId).getWorkflowTaskStartedEventAttributes().getIdentity());
    }
    assertThat(timedOutHolders).containsExactly(run.victim());
    HistoryEvent finish = only(history, e -> e.hasActivityTaskScheduledEventAttributes()
        && e.getActivityTaskScheduledEventAttributes().getActivityType().getName().equals("finish"));
    // The workflow task whose commands scheduled finish is the one started last before it.
    HistoryEvent started = history.stream().filter(e -> e.getEventId() < finish.getEventId()
        && e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED).reduce((x, y) -> y).orElseThrow();
    assertThat(started.getWorkflowTaskStartedEventAttributes().getIdentity())
        .as("the worker whose workflow task scheduled finish").isEqualTo(run.survivor());
    assertJoinedEverywhere();
  }

  @Test
  void shouldAttachTheNodesNextJoinToTheRunningWorkflowWhenTheGatewayRestarts() throws Exception {
    startCluster(RESTART_DEADLINE_MS);
    WorkerCheckpoint awaiting = WorkerCheckpoint.beforeActivity("awaitLearner");
    workers.add(CrashableWorker.start("worker-a", cluster.temporalTarget(), seedAdmin(), cluster.channels(Role.WORKER), awaiting));
    Node four = cluster.startNode(JOINING, false);
    CompletableFuture<JoinResponse> answer = joinAsync(four);
    awaiting.awaitHolder(HOLD_WAIT);
    JoinProgress before = gateway().getJoin(GetJoinRequest.newBuilder().setNodeId(JOINING).build());
    assertThat(before.getPhase()).isEqualTo("learners");

    long stoppedAt = System.nanoTime();
    cluster.stopGateway();
    // The node's Join is cut off (answered UNAVAILABLE) and its client keeps calling.
    await().atMost(Duration.ofSeconds(10)).until(() -> clientLog.stream().anyMatch(l -> l.contains("unavailable")));
    assertThat(clientLog).anyMatch(l -> l.contains("this gateway is stopping; call Join again"));
    assertThat(answer).isNotDone();
    cluster.startGateway();
    System.out.println("gateway down for " + millisSince(stoppedAt) + " ms");
    awaiting.release();

    JoinResponse r = answer.get(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(r.getSuccess()).as(r.getError()).isTrue();
    assertThat(r.getWorkflowId()).isEqualTo(before.getWorkflowId());
    assertThat(r.getRunId()).as("attached to the run the first Join started").isEqualTo(before.getRunId());
    assertOneRun(r);
    JoinProgress after = gateway().getJoin(GetJoinRequest.newBuilder().setNodeId(JOINING).build());
    assertThat(after.getRecovered()).as("the workflow was alive: nothing to recover").isEmpty();
    assertThat(after.getPhase()).isEqualTo("done");
    assertJoinedEverywhere();
  }

  @Test
  void shouldStartALostJoinAgainWhenTheGatewayStartsOnAFreshTemporal() throws Exception {
    startCluster(RESTART_DEADLINE_MS);
    Node four = cluster.startNode(JOINING, false);
    CompletableFuture<JoinResponse> answer = joinAsync(four);
    long lostAt = System.nanoTime();
    JoinProgress recovered = loseTemporalMidJoin(() -> { });

    JoinResult result = resultOf(recovered);
    System.out.println("recovered join ended " + millisSince(lostAt) + " ms after Temporal was lost: "
        + (result.success() ? "joined" : result.error()));
    assertThat(result.success()).as(result.error()).isTrue();
    // The node's client kept calling through the outage. Its answer comes from the recovered
    // run, or, when that run ended before the call came through, from a run that found the
    // node joined and changed nothing.
    JoinResponse r = answer.get(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(clientLog).anyMatch(l -> l.contains("unavailable"));
    assertThat(r.getSuccess()).as(r.getError()).isTrue();
    if (!r.getRunId().equals(recovered.getRunId())) {
      assertThat(r.getAlreadyJoined()).as("a later run changes nothing").isTrue();
    }
    assertThat(runs(r.getWorkflowId(), false)).isEmpty();
    assertThat(runs(r.getWorkflowId(), true)).containsExactlyInAnyOrderElementsOf(
        new HashSet<>(List.of(recovered.getRunId(), r.getRunId())));
    assertJoinedEverywhere();
  }

  @Test
  void shouldUndoALostJoinWhoseNodeDiedMeanwhile() throws Exception {
    startCluster(RESTART_DEADLINE_MS);
    Node four = cluster.startNode(JOINING, false);
    // One call, as a node that dies makes: cut off by the gateway stopping, never repeated.
    JoinRequest request = JoinRequest.newBuilder().setNodeId(JOINING).setListenAddr(four.config().listen().toString())
        .setWireVersion(Node.WIRE_VERSION).build();
    CompletableFuture<JoinResponse> cutOff = CompletableFuture.supplyAsync(() -> gateway(JOINING)
        .withDeadlineAfter(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS).join(request));
    long lostAt = System.nanoTime();
    JoinProgress recovered = loseTemporalMidJoin(() -> cluster.stopNode(four));
    assertThat(cutOff).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
        .havingRootCause().isInstanceOf(StatusRuntimeException.class)
        .withMessageContaining("UNAVAILABLE: stopped waiting for " + recovered.getWorkflowId());

    // Nothing can finish the join any more: the recovered run must undo it, including the
    // learners the lost run added before it was lost.
    JoinResult result = resultOf(recovered);
    System.out.println("recovered join of a dead node ended " + millisSince(lostAt) + " ms after Temporal was lost: "
        + result.error());
    assertThat(result.success()).isFalse();
    assertThat(result.error()).doesNotContain("compensation incomplete");
    assertThat(runs(recovered.getWorkflowId(), false)).isEmpty();
    assertThat(runs(recovered.getWorkflowId(), true)).containsExactly(recovered.getRunId());
    assertAbsentEverywhere();
  }

  /**
   * Holds the join of node 4 after group 2's configuration change committed (the node is a
   * learner of groups 0-2, JOINING in the topology, its join record pending), then loses
   * everything Temporal knew: the gateway stops, the worker dies, the embedded server stops and
   * starts empty, {@code meanwhile} runs, and worker and gateway start again.
   *
   * @return GetJoin of the run the restarted gateway started
   */
  private JoinProgress loseTemporalMidJoin(ThrowingRunnable meanwhile) throws Exception {
    WorkerCheckpoint added = WorkerCheckpoint.afterActivity("addLearner", 2);
    CrashableWorker worker = CrashableWorker.start("worker-a", cluster.temporalTarget(), seedAdmin(), cluster.channels(Role.WORKER), added);
    workers.add(worker);
    added.awaitHolder(HOLD_WAIT);
    JoinProgress before = gateway().getJoin(GetJoinRequest.newBuilder().setNodeId(JOINING).build());
    assertThat(before.getPhase()).isEqualTo("learners");
    ClusterView mid = cluster.view();
    assertThat(memberIds(mid.getGroups(2))).contains(JOINING);
    assertThat(memberIds(mid.getGroups(DATA_GROUPS))).doesNotContain(JOINING);
    assertThat(node(mid, JOINING).getState()).isEqualTo(NodeState.JOINING);
    assertThat(record(mid, JOINING).getOutcome()).isEmpty();

    long lostAt = System.nanoTime();
    cluster.stopGateway();
    worker.kill();
    cluster.stopTemporal();
    meanwhile.run();
    cluster.startTemporal();
    cluster.startWorker();
    cluster.startGateway();
    System.out.println("temporal, worker and gateway restarted in " + millisSince(lostAt) + " ms");

    // The gateway started the join again before it listened.
    JoinProgress recovered = gateway().getJoin(GetJoinRequest.newBuilder().setNodeId(JOINING).build());
    assertThat(recovered.getWorkflowId()).isEqualTo(before.getWorkflowId());
    assertThat(recovered.getRunId()).isNotEmpty().isNotEqualTo(before.getRunId());
    assertThat(recovered.getRecovered()).contains(before.getWorkflowId() + " was lost").contains("phase admit");
    return recovered;
  }

  private JoinResult resultOf(JoinProgress run) throws Exception {
    return cluster.temporal().client().newUntypedWorkflowStub(run.getWorkflowId(), Optional.of(run.getRunId()),
        Optional.empty()).getResult(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS, JoinResult.class);
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  // ---- the worker-crash scenario ----

  /** What a join with a killed worker ended with, and who was killed. */
  private record Run(JoinResponse answer, String victim, String survivor) {}

  /**
   * Two workers poll the task queue; the first to reach {@code checkpoint} is killed there and
   * the other must finish the join. The node's client must get one answer, from one run.
   */
  private Run joinKillingTheWorkerAt(WorkerCheckpoint checkpoint) throws Exception {
    CrashableWorker a = CrashableWorker.start("worker-a", cluster.temporalTarget(), seedAdmin(), cluster.channels(Role.WORKER), checkpoint);
    workers.add(a);
    CrashableWorker b = CrashableWorker.start("worker-b", cluster.temporalTarget(), seedAdmin(), cluster.channels(Role.WORKER), checkpoint);
    workers.add(b);
    Node four = cluster.startNode(JOINING, false);
    CompletableFuture<JoinResponse> answer = joinAsync(four);

    String holder = checkpoint.awaitHolder(HOLD_WAIT);
    CrashableWorker victim = holder.equals(a.identity()) ? a : b;
    CrashableWorker survivor = victim == a ? b : a;
    ClusterView mid = cluster.view();
    assertThat(node(mid, JOINING).getState()).as("admitted, not finished").isEqualTo(NodeState.JOINING);
    assertThat(record(mid, JOINING).getOutcome()).isEmpty();

    long killedAt = System.nanoTime();
    victim.kill();
    JoinResponse r = answer.get(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    System.out.println(victim.identity() + " killed at " + checkpoint + "; " + survivor.identity()
        + " answered the join " + millisSince(killedAt) + " ms later");
    assertThat(r.getSuccess()).as(r.getError()).isTrue();
    assertThat(r.getWorkflowId()).isEqualTo(JoinWorkflow.workflowId(mid.getClusterId(), JOINING));
    assertOneRun(r);
    assertThat(clientLog).as("one Join call, answered once").isEmpty();
    assertThat(four.identity().clusterId()).isEqualTo(mid.getClusterId());
    return new Run(r, victim.identity(), survivor.identity());
  }

  // ---- invariants ----

  /**
   * Joined: a member of every group, LEARNER or ACTIVE, its join recorded as succeeded; after
   * its promotion, every group has a leader and routing equal to its configuration.
   */
  private void assertJoinedEverywhere() throws Exception {
    ClusterView v = cluster.view();
    assertThat(node(v, JOINING).getState()).isIn(NodeState.LEARNER, NodeState.ACTIVE);
    assertThat(v.getGroupsList()).hasSize(DATA_GROUPS + 1)
        .allSatisfy(g -> assertThat(memberIds(g)).as("group %d", g.getGroupId()).contains(JOINING));
    assertThat(record(v, JOINING).getOutcome()).isEqualTo("succeeded");
    awaitPromoted(JOINING);
    assertRoutingMatchesConfigurations(cluster.view());
  }

  /** Compensated: in no group, not in the topology, its join recorded as compensated. */
  private void assertAbsentEverywhere() throws Exception {
    ClusterView v = cluster.view();
    assertThat(node(v, JOINING)).isNull();
    assertThat(v.getGroupsList()).allSatisfy(g -> assertThat(memberIds(g)).doesNotContain(JOINING));
    assertThat(record(v, JOINING).getOutcome()).startsWith("compensated");
    assertRoutingMatchesConfigurations(v);
  }

  private static void assertRoutingMatchesConfigurations(ClusterView v) {
    for (GroupView g : v.getGroupsList()) {
      assertThat(g.getLeader()).as("leader of group %d", g.getGroupId()).isNotZero();
      GroupRoute route = v.getRoutingList().stream().filter(r -> r.getGroupId() == g.getGroupId()).findFirst()
          .orElseThrow();
      assertThat(Set.copyOf(route.getVotersList())).as("voters of group %d", g.getGroupId())
          .isEqualTo(Set.copyOf(g.getVotersList()));
      assertThat(Set.copyOf(route.getLearnersList())).as("learners of group %d", g.getGroupId())
          .isEqualTo(Set.copyOf(g.getLearnersList()));
    }
  }

  /** Exactly one run of the join's workflow exists on the (current) Temporal, closed. */
  private void assertOneRun(JoinResponse r) {
    assertThat(runs(r.getWorkflowId(), false)).isEmpty();
    assertThat(runs(r.getWorkflowId(), true)).containsExactly(r.getRunId());
  }

  /** The run ids of a workflow id on the current Temporal, open or closed ones. */
  private List<String> runs(String workflowId, boolean closed) {
    TemporalConnection temporal = cluster.temporal();
    WorkflowExecutionFilter filter = WorkflowExecutionFilter.newBuilder().setWorkflowId(workflowId).build();
    List<WorkflowExecutionInfo> found = closed
        ? temporal.service().blockingStub().listClosedWorkflowExecutions(ListClosedWorkflowExecutionsRequest
            .newBuilder().setNamespace(TemporalConnection.EMBEDDED_NAMESPACE).setExecutionFilter(filter).build())
            .getExecutionsList()
        : temporal.service().blockingStub().listOpenWorkflowExecutions(ListOpenWorkflowExecutionsRequest
            .newBuilder().setNamespace(TemporalConnection.EMBEDDED_NAMESPACE).setExecutionFilter(filter).build())
            .getExecutionsList();
    return found.stream().map(e -> e.getExecution().getRunId()).toList();
  }

  /** Waits until the node's promotion finished: a voter of every group, ACTIVE. */
  private void awaitPromoted(long id) {
    await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(100)).ignoreException(
        StatusRuntimeException.class).untilAsserted(() -> {
          assertThat(gateway().getPromotion(GetPromotionRequest.newBuilder().setNodeId(id).build()).getDone())
              .isTrue();
          ClusterView view = cluster.view();
          assertThat(view.getGroupsList()).allSatisfy(g -> assertThat(g.getVotersList()).contains(id));
          assertThat(node(view, id).getState()).isEqualTo(NodeState.ACTIVE);
        });
  }

  // ---- plumbing ----

  /** The node joins the way {@code joinflow node --join} does, through its own join client. */
  private CompletableFuture<JoinResponse> joinAsync(Node node) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return JoiningNode.join(node, List.of(cluster.gatewayAddress().toString()), Duration.ofMinutes(3),
            clientLog::add);
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
  }

  private List<HistoryEvent> history(JoinResponse r) {
    return cluster.temporal().client().fetchHistory(r.getWorkflowId(), r.getRunId()).getEvents();
  }

  private static HistoryEvent event(List<HistoryEvent> history, long eventId) {
    return only(history, e -> e.getEventId() == eventId);
  }

  private static HistoryEvent only(List<HistoryEvent> history, Predicate<HistoryEvent> which) {
    List<HistoryEvent> found = history.stream().filter(which).toList();
    assertThat(found).hasSize(1);
    return found.get(0);
  }

  private String seedAdmin() {
    return cluster.nodes().get(0).config().listen().toString();
  }

  /** The gateway as the operator. */
  private JoinServiceGrpc.JoinServiceBlockingStub gateway() {
    // Waits out the channel's reconnect backoff after a gateway restart.
    return callers.asOperator().withWaitForReady().withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** The gateway as node {@code id}, the only caller that may ask it to join node {@code id}. */
  private JoinServiceGrpc.JoinServiceBlockingStub gateway(long id) {
    return callers.asNode(id).withWaitForReady().withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static List<Long> memberIds(GroupView g) {
    List<Long> ids = new ArrayList<>(g.getVotersList());
    ids.addAll(g.getLearnersList());
    return ids;
  }

  private static NodeRecord node(ClusterView v, long id) {
    return v.getNodesList().stream().filter(n -> n.getNodeId() == id).findFirst().orElse(null);
  }

  private static JoinRecord record(ClusterView v, long id) {
    return v.getJoinsList().stream().filter(j -> j.getNodeId() == id).findFirst().orElseThrow();
  }

  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }
}
