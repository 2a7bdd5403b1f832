package io.joinflow.cli;

import io.grpc.StatusRuntimeException;
import io.joinflow.cli.CrashMatrixIT.Outcome;
import io.joinflow.cli.CrashMatrixIT.Point;
import io.joinflow.cli.CrashMatrixIT.Role;
import io.joinflow.node.Node;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.HostGroupRequest;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.temporal.api.common.v1.WorkflowExecution;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** One run of the crash matrix: prepare, join, crash a role at a point, recover, check, reset. */
final class CrashRun {
  private static final Duration POINT_WITHIN = Duration.ofSeconds(60);
  private static final Duration ANSWER_WITHIN = Duration.ofMinutes(4);
  private static final Duration CONVERGE_WITHIN = Duration.ofSeconds(30);

  private CrashRun() {}

  static Outcome run(CrashCluster c, Role role, Point point, long seed, long joiningId) throws Exception {
    Random random = new Random(seed);
    int dataGroup = 1 + random.nextInt(c.dataGroups());
    c.awaitHealthy(Duration.ofSeconds(60));
    // Vary who leads what, but keep the data group's leader off group 0's leader.
    if (random.nextBoolean()) {
      c.moveLeadership(0, c.leaderOf(0));
    }
    for (int i = 0; i < 10 && c.leaderOf(dataGroup) == c.leaderOf(0); i++) {
      c.moveLeadership(dataGroup, c.leaderOf(dataGroup));
    }
    for (int i = 0; i < 4; i++) {
      c.put("run" + joiningId + "/before/" + i + "/" + random.nextInt(1_000_000), "v" + seed + "-" + i);
    }

    Node joining = c.startNode(joiningId, false);
    CountDownLatch reached = new CountDownLatch(1);
    CountDownLatch resume = new CountDownLatch(1);
    AtomicReference<StepTrigger.Hit> hit = new AtomicReference<>();
    AtomicReference<Boolean> abandon = new AtomicReference<>(false);
    StepTrigger trigger = new StepTrigger(joiningId, point.activity, point.dataGroup ? dataGroup : -1, point.when,
        h -> {
          if (point == Point.ADD_LEARNER_BEFORE_COMMIT) {
            // The first half of addLearner (the joining node hosts the division), as the
            // activity itself does it; the crash then falls before the conf change.
            c.pool().call("host group " + dataGroup, stub -> stub.hostGroup(HostGroupRequest.newBuilder()
                .setGroupId(dataGroup).setNodeId(joiningId).build()));
          }
          hit.set(h);
          reached.countDown();
          if (!resume.await(2, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the crash harness never resumed " + h);
          }
          if (abandon.get()) {
            throw new IllegalStateException("worker killed at " + h);
          }
        });
    c.setTrigger(trigger);

    AtomicInteger answers = new AtomicInteger();
    CompletableFuture<Object> answer = CompletableFuture.supplyAsync(() -> {
      try {
        JoinResponse r = JoiningNode.join(joining, List.of(c.gatewayAddress().toString()),
            Duration.ofMillis(CrashMatrixIT.JOIN_OPTIONS.deadlineMillis()).plusMinutes(3), line -> { });
        answers.incrementAndGet();
        return r;
      } catch (StatusRuntimeException e) {
        answers.incrementAndGet();
        return e;
      } catch (Exception e) {
        return e;
      }
    });

    List<String> violations = new ArrayList<>();
    CompletableFuture<Void> killed = CompletableFuture.completedFuture(null);
    long killedNode = 0;
    if (!reached.await(POINT_WITHIN.toMillis(), TimeUnit.MILLISECONDS)) {
      violations.add("the join never reached " + point + " (answer: " + describe(answer.getNow(null)) + ")");
    } else {
      for (int i = 0; i < 2; i++) {
        c.put("run" + joiningId + "/at-point/" + i, "v" + seed);
      }
      switch (role) {
        case GROUP0_LEADER -> {
          killedNode = c.leaderOf(0);
          killed = c.killNode(killedNode);
        }
        case DATA_LEADER -> {
          killedNode = c.leaderOf(dataGroup);
          killed = c.killNode(killedNode);
        }
        case WORKER -> {
          abandon.set(true);
          c.killWorker();
          c.startWorker();
        }
        case GATEWAY -> {
          c.killGateway();
          c.startGateway();
        }
      }
      resume.countDown();
    }
    Object result;
    try {
      result = answer.get(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      result = e;
      violations.add("no answer within " + ANSWER_WITHIN);
    } finally {
      resume.countDown();
      c.setTrigger(null);
    }
    if (killedNode != 0) {
      killed.get(60, TimeUnit.SECONDS);
      c.startNode(killedNode, false);
    }
    String clusterId = Long.toUnsignedString(c.view().getClusterId());
    // The client's answer is not the end of the join (e.g. a client that gave up early):
    // judge the cluster only once the workflow closed.
    if (!awaitClosed(c, "join/" + clusterId + "/" + joiningId)) {
      violations.add("(4) join/" + clusterId + "/" + joiningId + " still running " + ANSWER_WITHIN + " after the crash");
    }
    awaitPromotion(c, clusterId, joiningId);
    violations.addAll(check(c, joiningId, result, answers.get(), clusterId));
    String answerText = describe(result) + (hit.get() == null ? "" : " (hit " + hit.get().activity() + " g"
        + hit.get().group() + (hit.get().heartbeat() ? " waiting" : "") + ")");

    joining.closeAsync();
    c.remove(joiningId);
    c.deleteNodeDir(joiningId);
    boolean joined = result instanceof JoinResponse r && r.getSuccess();
    return new Outcome(answerText, joined, violations);
  }

  private static boolean awaitClosed(CrashCluster c, String workflowId) {
    try {
      c.temporal().client().newUntypedWorkflowStub(workflowId).getResult(ANSWER_WITHIN.toMillis(),
          TimeUnit.MILLISECONDS, Object.class);
      return true;
    } catch (io.temporal.client.WorkflowException e) {
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    }
  }

  /** A successful join starts the node's promotion; let it finish before the node is taken out. */
  private static void awaitPromotion(CrashCluster c, String clusterId, long nodeId) {
    String id = "promote/" + clusterId + "/" + nodeId;
    try {
      c.temporal().client().newUntypedWorkflowStub(id).getResult(60, TimeUnit.SECONDS, Object.class);
    } catch (Exception e) {
      // none started (the join failed), or it failed: the invariants say whether that matters
    }
  }

  /**
   * The five invariants, once the cluster had time to settle. Returns what does not hold.
   */
  static List<String> check(CrashCluster c, long nodeId, Object result, int answers, String clusterId)
      throws InterruptedException {
    return check(c, nodeId, result, answers, clusterId, 1);
  }

  /**
   * @param result the client's answer: a JoinResponse, a StatusRuntimeException, or null when
   *     the client itself was killed (then only the cluster's side is judged)
   * @param expectedRuns runs of the join's workflow id so far (one per join attempted)
   */
  static List<String> check(CrashCluster c, long nodeId, Object result, int answers, String clusterId,
                            int expectedRuns) throws InterruptedException {
    List<String> found = new ArrayList<>();
    long deadline = System.nanoTime() + CONVERGE_WITHIN.toNanos();
    List<String> last = List.of("never checked");
    while (System.nanoTime() < deadline) {
      try {
        last = settled(c, nodeId, result);
      } catch (StatusRuntimeException e) {
        last = List.of("cluster view unavailable: " + e.getStatus());
      }
      if (last.isEmpty()) {
        break;
      }
      Thread.sleep(200);
    }
    found.addAll(last);
    // (4) one workflow run per join, one answer to the client
    String workflowId = "join/" + clusterId + "/" + nodeId;
    List<WorkflowExecution> runs = c.runsOf(workflowId);
    if (runs.size() != expectedRuns) {
      found.add("(4) " + runs.size() + " runs of " + workflowId + ", expected " + expectedRuns + ": " + runs);
    }
    if (result != null && answers != 1) {
      found.add("(4) the client got " + answers + " answers");
    }
    if (result instanceof JoinResponse r && runs.stream().noneMatch(e -> e.getRunId().equals(r.getRunId()))) {
      found.add("(4) answered by run " + r.getRunId() + " but the runs are " + runs);
    }
    if (result != null && !(result instanceof JoinResponse) && !(result instanceof StatusRuntimeException)) {
      found.add("(4) the client got no answer: " + describe(result));
    }
    // (5) acknowledged writes
    Map<String, String> lost = c.lostWrites();
    if (!lost.isEmpty()) {
      found.add("(5) lost " + lost.size() + " of " + c.acknowledgedWrites() + " acknowledged writes: " + lost);
    }
    return found;
  }

  /** Invariants 1-3; empty when they hold. */
  private static List<String> settled(CrashCluster c, long nodeId, Object result) throws InterruptedException {
    List<String> found = new ArrayList<>();
    ClusterView v = c.view();
    // (2) leaders, and routing = committed configuration
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
            + g.getLearnersList() + " but routing " + (route == null ? "none" : "voters " + route.getVotersList()
            + " learners " + route.getLearnersList()));
      }
    }
    // (1) all or nothing, and the answer says which
    NodeRecord record = v.getNodesList().stream().filter(n -> n.getNodeId() == nodeId).findFirst().orElse(null);
    List<Integer> memberOf = new ArrayList<>();
    for (GroupView g : v.getGroupsList()) {
      if (g.getVotersList().contains(nodeId) || g.getLearnersList().contains(nodeId)) {
        memberOf.add(g.getGroupId());
      }
    }
    boolean all = record != null && (record.getState() == NodeState.LEARNER || record.getState() == NodeState.ACTIVE)
        && memberOf.size() == v.getGroupsCount();
    boolean none = record == null && memberOf.isEmpty();
    if (!all && !none) {
      found.add("(1) half-joined: topology " + (record == null ? "absent" : record.getState())
          + ", member of groups " + memberOf + " of " + v.getGroupsCount());
    }
    boolean success = result instanceof JoinResponse r && r.getSuccess();
    if (success && !all) {
      found.add("(1) the client was told the join succeeded, but the node is not in every group");
    }
    if (!success && all) {
      found.add("(1) the client was told the join failed (" + describe(result) + "), but the node joined");
    }
    if (none) {
      JoinRecord jr = v.getJoinsList().stream().filter(j -> j.getNodeId() == nodeId).findFirst().orElse(null);
      if (jr != null && !jr.getOutcome().startsWith("compensated") && !jr.getOutcome().startsWith("rejected")) {
        found.add("(1) node absent but its join record says '" + jr.getOutcome() + "'");
      }
    }
    // (3) every live member's catalog holds group 0's state
    MetadataState truth = null;
    for (long id = 1; id <= CrashCluster.MEMBERS && truth == null; id++) {
      var n = c.node(id);
      if (n.isPresent()) {
        try {
          truth = n.get().readMetadata();
        } catch (io.grpc.StatusException e) {
          // try the next one
        }
      }
    }
    if (truth == null) {
      found.add("(3) no member could read group 0");
      return found;
    }
    for (long id = 1; id <= CrashCluster.MEMBERS; id++) {
      var n = c.node(id);
      if (n.isEmpty()) {
        found.add("(3) node " + id + " is not running");
        continue;
      }
      MetadataState held = n.get().catalog().metadata().state();
      if (!held.equals(truth)) {
        found.add("(3) node " + id + " catalog at topology version " + held.getTopologyVersion()
            + " differs from group 0 at " + truth.getTopologyVersion());
      }
    }
    if (success) {
      var joined = c.node(nodeId);
      var update = joined.map(n -> n.catalog().topologyUpdate()).flatMap(u -> u);
      if (update.isEmpty()) {
        found.add("(3) the joined node holds no topology");
      } else {
        MetadataState held = update.get().getState();
        if (!ids(held.getNodesList()).equals(ids(truth.getNodesList())) || held.getClusterId() != truth.getClusterId()) {
          found.add("(3) the joined node's topology " + ids(held.getNodesList()) + " differs from group 0's "
              + ids(truth.getNodesList()));
        }
      }
    }
    return found;
  }

  private static Set<String> ids(List<NodeRecord> nodes) {
    Set<String> out = new HashSet<>();
    nodes.forEach(n -> out.add(n.getNodeId() + ":" + n.getState()));
    return out;
  }

  static String describe(Object result) {
    if (result instanceof JoinResponse r) {
      return r.getSuccess() ? "joined" : "not joined: " + r.getError();
    }
    if (result instanceof StatusRuntimeException e) {
      return "status " + e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    }
    if (result instanceof Throwable t) {
      return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
    return String.valueOf(result);
  }
}
