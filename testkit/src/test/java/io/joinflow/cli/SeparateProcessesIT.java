package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GroupProgress;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.CertsDir;
import io.joinflow.security.Channels;
import io.joinflow.security.Role;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.worker.TemporalConnection;
import io.joinflow.worker.TemporalDevServer;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.PendingActivityState;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowExecutionMetadata;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * joinflow as an operator deploys it: a real {@code temporal server start-dev} (SQLite history),
 * two {@code joinflow worker} processes, one {@code joinflow gateway} process and {@code joinflow
 * node} processes (node 1 bootstraps, nodes 2 and 3 join and are promoted, so every group has
 * three voters), each an OS process of its own. Then a further node process joins while one
 * process is killed with SIGKILL: the node process leading group 0 (mid-addLearner), a worker
 * process (mid-join, while the other worker runs), and the Temporal server itself (mid-join,
 * restarted on the same SQLite file). After each: the join succeeded or compensated, all or
 * nothing; every group has a leader; routing equals the Ratis configurations; one workflow run
 * per join, and the run that resumed after Temporal's restart is the one it started (Temporal's
 * own history, not the gateway's recovery of lost joins).
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SeparateProcessesIT {
  private static final int DATA_GROUPS = 3;
  private static final Duration STARTUP = Duration.ofSeconds(90);
  /** A join that has to compensate does so within its 60 s deadline plus a little. */
  private static final Duration JOIN_ANSWER = Duration.ofMinutes(3);

  private static Path dir;
  private static int base;
  private static TemporalDevServer.Settings temporalSettings;
  private static TemporalDevServer temporal;
  private static TemporalConnection client;
  private static NodeAdminPool pool;
  private static ManagedChannel gatewayChannel;
  private static final Map<Long, JoinflowProcess> nodes = new TreeMap<>();
  private static final List<JoinflowProcess> workers = new ArrayList<>();
  private static JoinflowProcess gateway;
  private static String clusterId;
  private static int workerCount;
  private static Path certs;

  @BeforeAll
  static void startDeployment() throws Exception {
    Path binary = RequiredTool.temporal();
    dir = Files.createTempDirectory("joinflow-processes");
    base = Ports.freeBase(100);
    long t0 = System.nanoTime();
    temporalSettings = new TemporalDevServer.Settings(binary, base, base + 2, base + 3, base + 4,
        dir.resolve("temporal.db"), TemporalConnection.DEV_NAMESPACE, dir.resolve("temporal.log"));
    temporal = TemporalDevServer.start(temporalSettings, STARTUP);
    client = TemporalConnection.fromEnvironment(temporalEnv(), null);

    // The deployment runs secure, as production does: one cluster CA, a certificate per process.
    certs = dir.resolve("certs");
    cert("create-ca", "--cluster", "processes");
    for (String role : List.of("worker", "operator")) {
      cert("create-client", "--role", role);
    }
    cert("create-client", "--role", "gateway", "--host", "127.0.0.1");
    startNode(1, "--bootstrap", "--groups", String.valueOf(DATA_GROUPS));
    pool = new NodeAdminPool(List.of(admin(1), admin(2), admin(3)),
        Channels.tls(new CertsDir(certs).identity(Role.WORKER, 0)));
    startWorker();
    startWorker();
    gateway = JoinflowProcess.start("gateway", dir.resolve("gateway.log"), temporalEnv(), "gateway",
        "--listen", "127.0.0.1:" + (base + 1), "--nodes", admin(1) + "," + admin(2) + "," + admin(3),
        "--temporal", "env", "--temporal-ui", "http://127.0.0.1:" + (base + 2), "--certs-dir", certs.toString(),
        "--deadline-seconds", "60",
        // One learner addition at a time, so "mid-addLearner" is a window the test can hit.
        "--fan-out", "1");
    assertThat(gateway.awaitLine("gateway ready", STARTUP)).as(gateway.tail()).isTrue();
    gatewayChannel = Channels.tls(new CertsDir(certs).identity(Role.OPERATOR, 0)).channel("127.0.0.1", base + 1);
    for (long id = 2; id <= 3; id++) {
      JoinflowProcess n = startNode(id, "--join", gatewayAddress());
      assertThat(n.awaitLine("node " + id + " ready", JOIN_ANSWER)).as(n.tail()).isTrue();
    }
    clusterId = Long.toUnsignedString(view().getClusterId());
    awaitVoters(List.of(1L, 2L, 3L));
    System.out.println("[processes] temporal " + temporal.target() + " (pid " + temporal.serverPid().orElse(-1L)
        + "), 2 workers, gateway, nodes 1-3 voting in every group, ready in "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
  }

  @AfterAll
  static void stopDeployment() {
    if (gatewayChannel != null) {
      gatewayChannel.shutdownNow();
    }
    if (pool != null) {
      pool.close();
    }
    if (client != null) {
      client.close();
    }
    List<JoinflowProcess> all = new ArrayList<>(nodes.values());
    all.addAll(workers);
    if (gateway != null) {
      all.add(gateway);
    }
    all.parallelStream().forEach(JoinflowProcess::close);
    if (temporal != null) {
      temporal.close();
    }
    if (dir != null) {
      DevCluster.deleteRecursively(dir);
    }
  }

  @Test
  @Order(0)
  void shouldRefuseCallersWithoutTheRightCertificate() throws Exception {
    ManagedChannel plaintext = Channels.plaintext().channel("127.0.0.1", base + 1);
    ManagedChannel asNode2 = Channels.tls(new CertsDir(certs).identity(Role.NODE, 2)).channel("127.0.0.1", base + 1);
    try {
      io.joinflow.proto.v1.JoinRequest join9 = io.joinflow.proto.v1.JoinRequest.newBuilder().setNodeId(9)
          .setListenAddr("127.0.0.1:" + (base + 90)).setWireVersion(io.joinflow.node.Node.WIRE_VERSION).build();
      assertThat(refusal(() -> JoinServiceGrpc.newBlockingStub(plaintext).withDeadlineAfter(10, TimeUnit.SECONDS)
          .join(join9)).getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
      io.grpc.Status wrongNode = refusal(() -> JoinServiceGrpc.newBlockingStub(asNode2)
          .withDeadlineAfter(10, TimeUnit.SECONDS).join(join9));
      assertThat(wrongNode.getCode()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
      assertThat(wrongNode.getDescription()).contains("node 2 of processes and may ask only about node 2, not node 9");
      io.grpc.Status operatorJoins = refusal(() -> JoinServiceGrpc.newBlockingStub(gatewayChannel)
          .withDeadlineAfter(10, TimeUnit.SECONDS).join(join9));
      assertThat(operatorJoins.getCode()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
      assertThat(operatorJoins.getDescription()).contains("JoinService/Join needs a certificate of role node");
    } finally {
      plaintext.shutdownNow();
      asNode2.shutdownNow();
    }
    // Refused before any workflow started: the cluster knows nothing of node 9. (The topology
    // version itself may move: nodes 2 and 3 are still being promoted.)
    assertThat(view().getNodesList()).noneMatch(n -> n.getNodeId() == 9);
    assertThat(refusal(() -> JoinServiceGrpc.newBlockingStub(gatewayChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .getJoin(GetJoinRequest.newBuilder().setNodeId(9).build())).getCode()).isEqualTo(io.grpc.Status.Code.NOT_FOUND);
  }

  private static io.grpc.Status refusal(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
    throw new AssertionError("the call was not refused");
  }

  @Test
  @Order(1)
  void shouldFinishTheJoinWhenTheNodeLeadingGroupZeroIsKilledMidAddLearner() throws Exception {
    long joining = 4;
    JoinflowProcess node = startNode(joining, "--join", gatewayAddress());
    // Mid-addLearner: some groups have the learner, others are still pending (one addition at a time).
    JoinProgress at = awaitJoin(joining, p -> p.getPhase().equals("learners")
        && p.getGroupsList().stream().anyMatch(g -> g.getState().equals("learner"))
        && p.getGroupsList().stream().anyMatch(g -> g.getState().equals("pending")));
    long leader = view().getGroups(0).getLeader();
    int exit = nodes.get(leader).kill9();
    System.out.println("[processes] killed -9 node " + leader + " (leader of group 0, exit " + exit + ") with node "
        + joining + "'s groups at " + states(at));
    assertThat(exit).isEqualTo(137);

    boolean joined = awaitAnswer(node, joining);
    restartNode(leader);
    List<String> violations = checkAfter(joining, joined, at.getRunId());
    assertThat(violations).as("after killing node %d mid-addLearner\n%s\n%s", leader, node.tail(),
        nodes.get(leader).tail()).isEmpty();
  }

  @Test
  @Order(2)
  void shouldFinishTheJoinWhenTheWorkerRunningItIsKilled() throws Exception {
    long joining = 5;
    JoinflowProcess node = startNode(joining, "--join", gatewayAddress());
    String workflowId = "join/" + clusterId + "/" + joining;
    // The worker that runs one of the join's activities right now.
    PendingActivityInfo held = null;
    JoinflowProcess victim = null;
    long deadline = System.nanoTime() + JOIN_ANSWER.toNanos();
    while (victim == null && System.nanoTime() < deadline && node.isAlive()) {
      Optional<PendingActivityInfo> running = pendingActivities(workflowId).stream()
          .filter(a -> a.getState() == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
              && !a.getLastWorkerIdentity().isEmpty())
          .findFirst();
      if (running.isPresent()) {
        long pid = pidOf(running.get().getLastWorkerIdentity());
        victim = workers.stream().filter(w -> w.pid() == pid && w.isAlive()).findFirst().orElse(null);
        held = running.get();
      } else {
        Thread.sleep(5);
      }
    }
    assertThat(victim).as("a worker of this test running an activity of %s\n%s", workflowId, node.tail()).isNotNull();
    int exit = victim.kill9();
    String heldId = held.getActivityId();
    boolean inFlight = pendingActivities(workflowId).stream()
        .anyMatch(a -> a.getActivityId().equals(heldId) && a.getAttempt() == 1);
    System.out.println("[processes] killed -9 " + victim.name() + " (pid " + victim.pid() + ", exit " + exit
        + ") while it ran " + held.getActivityType().getName() + " (activity " + held.getActivityId() + ", "
        + (inFlight ? "still pending after the kill" : "it completed just before the kill") + ")");
    assertThat(exit).isEqualTo(137);
    workers.remove(victim);
    // The other worker goes on alone; a replacement joins it, as an operator would restart one.
    startWorker();

    boolean joined = awaitAnswer(node, joining);
    List<String> violations = checkAfter(joining, joined, null);
    assertThat(violations).as("after killing %s\n%s\n%s", victim.name(), node.tail(), victim.tail()).isEmpty();
    if (inFlight) {
      String victimIdentity = held.getLastWorkerIdentity();
      PendingActivityInfo lost = held;
      // The killed attempt timed out on its heartbeat and ran again on a live worker.
      assertThat(history(workflowId)).as("the activity the killed worker held ran again elsewhere")
          .anySatisfy(e -> {
            assertThat(e.getEventType()).isEqualTo(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
            assertThat(e.getActivityTaskStartedEventAttributes().getAttempt()).isGreaterThan(1);
            assertThat(e.getActivityTaskStartedEventAttributes().getIdentity()).isNotEqualTo(victimIdentity);
            assertThat(scheduledActivityId(workflowId, e.getActivityTaskStartedEventAttributes().getScheduledEventId()))
                .isEqualTo(lost.getActivityId());
          });
    }
  }

  @Test
  @Order(3)
  void shouldResumeTheJoinFromTemporalsOwnHistoryWhenTheServerIsKilled() throws Exception {
    long joining = 6;
    JoinflowProcess node = startNode(joining, "--join", gatewayAddress());
    JoinProgress at = awaitJoin(joining, p -> p.getPhase().equals("learners"));
    long pid = temporal.serverPid().orElseThrow();
    ProcessHandle server = ProcessHandle.of(pid).orElseThrow();
    server.destroyForcibly();
    server.onExit().get(30, TimeUnit.SECONDS);
    temporal.close();
    System.out.println("[processes] killed -9 the temporal server (pid " + pid + ") with node " + joining
        + "'s join in run " + at.getRunId() + " at " + states(at));
    awaitPortFree(base);
    temporal = TemporalDevServer.start(temporalSettings, STARTUP);
    System.out.println("[processes] temporal started again on " + temporalSettings.dbFile());

    boolean joined = awaitAnswer(node, joining);
    List<String> violations = checkAfter(joining, joined, at.getRunId());
    assertThat(violations).as("after killing the Temporal server\n%s\n%s", node.tail(), gateway.tail()).isEmpty();
    JoinProgress after = JoinServiceGrpc.newBlockingStub(gatewayChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .getJoin(GetJoinRequest.newBuilder().setNodeId(joining).build());
    assertThat(after.getRunId()).as("the run that resumed").isEqualTo(at.getRunId());
    assertThat(after.getRecovered()).as("not started again by the gateway's recovery").isEmpty();
    assertThat(gateway.logText()).doesNotContain("recovered join");
  }

  // ---- the deployment ----

  private static Map<String, String> temporalEnv() {
    return Map.of("TEMPORAL_ADDRESS", "127.0.0.1:" + base, "TEMPORAL_NAMESPACE", TemporalConnection.DEV_NAMESPACE);
  }

  private static String admin(long id) {
    return "127.0.0.1:" + (base + 10 * id);
  }

  /** Runs {@code joinflow cert ... --certs-dir <certs>} as an operator would. */
  private static void cert(String... args) {
    List<String> all = new ArrayList<>(List.of("cert"));
    all.addAll(List.of(args));
    all.addAll(List.of("--certs-dir", certs.toString()));
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = Main.commandLine();
    cli.setOut(new java.io.PrintWriter(new java.io.StringWriter()));
    cli.setErr(new java.io.PrintWriter(err, true));
    assertThat(cli.execute(all.toArray(String[]::new))).as(err.toString()).isZero();
  }

  private static String gatewayAddress() {
    return "127.0.0.1:" + (base + 1);
  }

  private static final Map<Long, String[]> nodeArgs = new TreeMap<>();

  private static JoinflowProcess startNode(long id, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("node", "--node-id", String.valueOf(id), "--listen", admin(id),
        "--data-dir", dir.resolve("node-" + id).toString(), "--certs-dir", certs.toString()));
    if (!Files.exists(certs.resolve("node." + id + ".crt"))) {
      cert("create-node", "--node-id", String.valueOf(id), "--host", "127.0.0.1");
    }
    args.addAll(List.of(extra));
    if (args.contains("--join")) {
      // The secure gateway admits a node only with a join token, issued as an operator does.
      args.addAll(List.of("--token", new OperatorTokens(gatewayAddress(), certs).create(id)));
    }
    nodeArgs.put(id, args.toArray(String[]::new));
    JoinflowProcess p = JoinflowProcess.start("node " + id, dir.resolve("node-" + id + ".log"), Map.of(),
        nodeArgs.get(id));
    nodes.put(id, p);
    if (extra.length > 0 && extra[0].equals("--bootstrap")) {
      assertThat(p.awaitLine("node " + id + " ready", STARTUP)).as(p.tail()).isTrue();
    }
    return p;
  }

  /** Starts a killed node process again with its arguments, on its data dir. */
  private static void restartNode(long id) throws Exception {
    JoinflowProcess p = JoinflowProcess.start("node " + id + " (restarted)", dir.resolve("node-" + id + ".log"),
        Map.of(), nodeArgs.get(id));
    nodes.put(id, p);
    assertThat(p.awaitLine("node " + id + " ready", STARTUP)).as(p.tail()).isTrue();
  }

  private static void startWorker() throws Exception {
    String name = "worker " + (char) ('A' + workerCount++);
    JoinflowProcess w = JoinflowProcess.start(name, dir.resolve(name.replace(' ', '-') + ".log"), temporalEnv(),
        "worker", "--nodes", admin(1) + "," + admin(2) + "," + admin(3), "--temporal", "env",
        "--certs-dir", certs.toString());
    assertThat(w.awaitLine("worker ready", STARTUP)).as(w.tail()).isTrue();
    workers.add(w);
  }

  private static ClusterView view() {
    return pool.clusterView();
  }

  /** Waits until every group has a leader and these nodes vote in it. */
  private static void awaitVoters(List<Long> voters) throws InterruptedException {
    long deadline = System.nanoTime() + JOIN_ANSWER.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        ClusterView v = view();
        if (v.getGroupsList().stream().allMatch(g -> g.getLeader() != 0 && g.getVotersList().containsAll(voters))) {
          return;
        }
        last = v.getGroupsList().toString();
      } catch (StatusRuntimeException e) {
        last = e.getStatus().toString();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("nodes " + voters + " are not voters of every group: " + last);
  }

  /** Polls the node's join through the gateway until {@code condition} holds. */
  private static JoinProgress awaitJoin(long nodeId, Predicate<JoinProgress> condition) throws InterruptedException {
    long deadline = System.nanoTime() + JOIN_ANSWER.toNanos();
    JoinProgress last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = JoinServiceGrpc.newBlockingStub(gatewayChannel).withDeadlineAfter(2, TimeUnit.SECONDS)
            .getJoin(GetJoinRequest.newBuilder().setNodeId(nodeId).build());
        if (condition.test(last)) {
          return last;
        }
      } catch (StatusRuntimeException e) {
        // not started yet
      }
      Thread.sleep(20);
    }
    throw new AssertionError("node " + nodeId + "'s join never reached the point; last " + last + "\n"
        + nodes.get(nodeId).tail());
  }

  /** Waits for the joining node process's answer: true when it joined (ready line), false when it gave up. */
  private static boolean awaitAnswer(JoinflowProcess node, long id) throws InterruptedException {
    if (node.awaitLine("node " + id + " ready", JOIN_ANSWER)) {
      return true;
    }
    Integer exit = node.awaitExit(Duration.ofSeconds(10));
    assertThat(exit).as("node %d neither joined nor gave up\n%s", id, node.tail()).isNotNull();
    return false;
  }

  // ---- what must hold after each crash ----

  /**
   * The invariants, once the join's workflow closed and the cluster settled (30 s at most): all
   * or nothing, as the node was told; a leader per group; routing = the Ratis configurations;
   * one workflow run of the join (the one given, if any). The node's promotion is let finish.
   */
  private static List<String> checkAfter(long nodeId, boolean joined, String runId) throws Exception {
    String workflowId = "join/" + clusterId + "/" + nodeId;
    client.client().newUntypedWorkflowStub(workflowId).getResult(2, TimeUnit.MINUTES, Object.class);
    if (joined) {
      client.client().newUntypedWorkflowStub("promote/" + clusterId + "/" + nodeId)
          .getResult(2, TimeUnit.MINUTES, Object.class);
    }
    List<String> found = List.of("never checked");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try {
        found = settled(view(), nodeId, joined);
      } catch (StatusRuntimeException e) {
        found = List.of("cluster view unavailable: " + e.getStatus());
      }
      if (found.isEmpty()) {
        break;
      }
      Thread.sleep(200);
    }
    List<String> all = new ArrayList<>(found);
    List<WorkflowExecution> runs = client.client().listExecutions("WorkflowId='" + workflowId + "'")
        .map(WorkflowExecutionMetadata::getExecution).toList();
    if (runs.size() != 1) {
      all.add("(4) " + runs.size() + " runs of " + workflowId + ": " + runs);
    } else if (runId != null && !runs.get(0).getRunId().equals(runId)) {
      all.add("(4) the join's run is " + runs.get(0).getRunId() + ", not the one that was running, " + runId);
    }
    System.out.println("[processes] node " + nodeId + ": " + (joined ? "joined" : "compensated") + "; "
        + (all.isEmpty() ? "every invariant holds" : "VIOLATIONS " + all));
    return all;
  }

  private static List<String> settled(ClusterView v, long nodeId, boolean joined) {
    List<String> found = new ArrayList<>();
    for (GroupView g : v.getGroupsList()) {
      if (g.getLeader() == 0) {
        found.add("(2) group " + g.getGroupId() + " has no leader");
        continue;
      }
      GroupRoute route = v.getRoutingList().stream().filter(r -> r.getGroupId() == g.getGroupId()).findFirst()
          .orElse(null);
      if (route == null || !Set.copyOf(route.getVotersList()).equals(Set.copyOf(g.getVotersList()))
          || !Set.copyOf(route.getLearnersList()).equals(Set.copyOf(g.getLearnersList()))) {
        found.add("(2) group " + g.getGroupId() + " conf voters " + g.getVotersList() + " learners "
            + g.getLearnersList() + " but routing " + route);
      }
    }
    NodeRecord record = v.getNodesList().stream().filter(n -> n.getNodeId() == nodeId).findFirst().orElse(null);
    long memberOf = v.getGroupsList().stream()
        .filter(g -> g.getVotersList().contains(nodeId) || g.getLearnersList().contains(nodeId)).count();
    boolean all = record != null && (record.getState() == NodeState.LEARNER || record.getState() == NodeState.ACTIVE)
        && memberOf == v.getGroupsCount();
    boolean none = record == null && memberOf == 0;
    if (!all && !none) {
      found.add("(1) half-joined: topology " + (record == null ? "absent" : record.getState()) + ", member of "
          + memberOf + " of " + v.getGroupsCount() + " groups");
    }
    if (joined != all) {
      found.add("(1) the node was told " + (joined ? "it joined" : "its join failed") + " but it is in "
          + memberOf + " of " + v.getGroupsCount() + " groups");
    }
    if (none) {
      JoinRecord jr = v.getJoinsList().stream().filter(j -> j.getNodeId() == nodeId).findFirst().orElse(null);
      if (jr != null && !jr.getOutcome().startsWith("compensated")) {
        found.add("(1) node absent but its join record says '" + jr.getOutcome() + "'");
      }
    }
    return found;
  }

  // ---- Temporal reads ----

  private static List<PendingActivityInfo> pendingActivities(String workflowId) {
    try {
      DescribeWorkflowExecutionResponse d = client.service().blockingStub().describeWorkflowExecution(
          DescribeWorkflowExecutionRequest.newBuilder().setNamespace(client.namespace())
              .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId)).build());
      return d.getPendingActivitiesList();
    } catch (StatusRuntimeException e) {
      return List.of();
    }
  }

  private static List<HistoryEvent> history(String workflowId) {
    return client.client().fetchHistory(workflowId).getEvents();
  }

  private static String scheduledActivityId(String workflowId, long scheduledEventId) {
    return history(workflowId).stream().filter(e -> e.getEventId() == scheduledEventId).findFirst()
        .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityId()).orElse("");
  }

  /** A worker's default identity is {@code pid@host}. */
  private static long pidOf(String identity) {
    int at = identity.indexOf('@');
    try {
      return Long.parseLong(at < 0 ? identity : identity.substring(0, at));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String states(JoinProgress p) {
    Map<String, List<Integer>> byState = new TreeMap<>();
    for (GroupProgress g : p.getGroupsList()) {
      byState.computeIfAbsent(g.getState(), s -> new ArrayList<>()).add(g.getGroupId());
    }
    return "phase " + p.getPhase() + " " + byState;
  }

  private static void awaitPortFree(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", port));
        return;
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
    throw new AssertionError("port " + port + " still in use 30 s after the server was killed");
  }
}
