package io.joinflow.cli;

import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.joinflow.node.Node;
import io.joinflow.node.NodeConfig;
import io.joinflow.node.NodeStartException;
import io.joinflow.proto.v1.Batch;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.RemoveNode;
import io.joinflow.workflows.PromoteResult;
import io.joinflow.workflows.PromoteWorkflow;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowNotFoundException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.ratis.protocol.RaftPeer;

/**
 * Joins fresh empty nodes into one running {@link DevCluster} in each {@link BenchMode}, and
 * takes them out again afterwards, so every mode meets the same cluster: the cluster's nodes
 * (the seed, and with {@code --voters} nodes 2..N, promoted first) as the voters of every group,
 * no learners, the same topology.
 *
 * <p>Nodes get ids after the cluster's own on the cluster's port scheme (node i on base+10i). An id is never
 * used twice: a retired node's Ratis peer id may still sit in a leader's caches, and a port may
 * still be held by a node that is closing. The baselines drive the seed's membership parts ({@link io.joinflow.node.membership.ConfChanges})
 * directly, which serialises changes per group on the seed, as it does for the NodeAdmin calls
 * of the workflow's activities.
 */
final class BenchJoins implements AutoCloseable {
  private static final long CLOSE_WAIT_SECONDS = 30;

  private final DevCluster cluster;
  private final DevCluster.Settings settings;
  private final Node seed;
  private final ExecutorService chores;
  private final LongSupplier ids;
  private final boolean promote;
  private final long stabilizationMs;

  /**
   * The result of one batch of simultaneous joins.
   *
   * @param callMs per-group calls by name ({@link #ADD_LEARNER}, {@link #AWAIT_CAUGHT_UP}): each
   *     call's latency; for the workflow, its activities' schedule-to-close times
   * @param cpuBusy the share of the machine's cores this process kept busy during the batch
   *     (0..1; NaN where the JVM cannot tell): near 1, the batch was bound by the CPU
   * @param historyEvents per workflow join, the events in its history (Temporal allows 51,200)
   * @param promoteTimelines with --promote, each workflow join's promotion from its history
   */
  record Outcome(double totalMs, List<Double> joinMs, List<Double> joinAndPromoteMs, List<String> failures,
                 List<JoinTimeline> timelines, Map<String, List<Double>> callMs, double cpuBusy,
                 List<Integer> historyEvents, List<JoinTimeline> promoteTimelines) {
    boolean succeeded() {
      return failures.isEmpty();
    }
  }

  static final String ADD_LEARNER = "addLearner";
  static final String AWAIT_CAUGHT_UP = "awaitCaughtUp";
  static final String PROMOTE = "promote";
  /** How long a measured promotion may take to end (its catch-up deadline is 2 minutes). */
  private static final Duration PROMOTE_TIMEOUT = Duration.ofMinutes(3);
  /** The workflow's activity names for the same two per-group calls. */
  private static final Map<String, String> ACTIVITY_CALLS = Map.of("addLearner", ADD_LEARNER,
      "awaitLearner", AWAIT_CAUGHT_UP);

  private final Map<String, List<Double>> calls = new ConcurrentHashMap<>();
  private final BenchBaselines baselines;

  /**
   * @param settings the settings the cluster was started with
   * @param ids node ids for the joining nodes: above the cluster's own nodes, never one twice on
   *     the same ports
   * @param promote whether a join is measured until its node votes in every group
   * @param stabilizationMs the window the baselines wait before promoting, as the workflow's
   *     promotion does (the cluster's promotion options hold the workflow's)
   */
  BenchJoins(DevCluster cluster, DevCluster.Settings settings, LongSupplier ids, boolean promote,
             long stabilizationMs) {
    this.cluster = cluster;
    this.settings = settings;
    this.ids = ids;
    this.promote = promote;
    this.stabilizationMs = stabilizationMs;
    this.seed = cluster.nodes().get(0);
    this.chores = Executors.newFixedThreadPool(8, daemon("bench-chores"));
    this.baselines = new BenchBaselines(seed, settings.dataGroups(), stabilizationMs, calls);
  }

  /** Starts {@code count} empty nodes, a few at a time; their start is not measured. */
  List<Node> startNodes(int count) throws NodeStartException, InterruptedException {
    List<Future<Node>> starting = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      NodeConfig config = config(ids.getAsLong());
      starting.add(chores.submit(() -> Node.start(config)));
    }
    List<Node> started = new ArrayList<>();
    NodeStartException failure = null;
    for (Future<Node> f : starting) {
      try {
        started.add(f.get());
      } catch (ExecutionException e) {
        failure = e.getCause() instanceof NodeStartException n ? n
            : new NodeStartException(String.valueOf(e.getCause().getMessage()), e.getCause());
      }
    }
    if (failure != null) {
      closeAll(started);
      throw failure;
    }
    return started;
  }

  private NodeConfig config(long id) throws NodeStartException {
    return cluster.nodeConfig(id, (int) id, settings.dataDir().resolve("node-" + id), false);
  }

  /**
   * Joins every node at the same moment and waits for all of them. The batch time runs from
   * that moment to the last join's end; each join's time from its own start to its end.
   */
  Outcome join(BenchMode mode, List<Node> nodes) throws InterruptedException {
    calls.clear();
    ExecutorService runners = Executors.newFixedThreadPool(nodes.size(), daemon("bench-join"));
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Timed>> running = new ArrayList<>();
      for (Node node : nodes) {
        running.add(runners.submit(() -> {
          go.await();
          long start = System.nanoTime();
          long joined = start;
          try {
            JoinResponse response = joinOne(mode, node);
            joined = System.nanoTime();
            if (response != null && !response.getSuccess()) {
              return new Timed(node, start, joined, joined, response, "node " + node.nodeId() + ": "
                  + response.getError());
            }
            if (promote) {
              promoteOne(mode, node);
            }
            return new Timed(node, start, joined, System.nanoTime(), response, null);
          } catch (Exception e) {
            return new Timed(node, start, joined, System.nanoTime(), null, "node " + node.nodeId() + ": "
                + describe(e));
          }
        }));
      }
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      go.countDown();
      long last = t0;
      List<Double> joinMs = new ArrayList<>();
      List<Double> joinAndPromoteMs = new ArrayList<>();
      List<String> failures = new ArrayList<>();
      List<Timed> done = new ArrayList<>();
      for (Future<Timed> f : running) {
        Timed t;
        try {
          t = f.get();
        } catch (ExecutionException e) {
          failures.add(describe(e.getCause()));
          continue;
        }
        last = Math.max(last, t.end());
        if (t.failure() == null) {
          joinMs.add(millis(t.joined() - t.start()));
          if (promote) {
            joinAndPromoteMs.add(millis(t.end() - t.start()));
          }
          done.add(t);
        } else {
          failures.add(t.failure());
        }
      }
      double cpuBusy = cpu0 < 0 ? Double.NaN
          : (processCpuNanos() - cpu0) / (double) ((last - t0) * Runtime.getRuntime().availableProcessors());
      List<Integer> historyEvents = new ArrayList<>();
      List<JoinTimeline> timelines = timelines(done, historyEvents);
      List<JoinTimeline> promoteTimelines = promote ? promoteTimelines(done) : List.of();
      Map<String, List<Double>> callMs = new LinkedHashMap<>();
      calls.forEach((k, v) -> callMs.put(k, List.copyOf(v)));
      for (JoinTimeline t : timelines) {
        for (JoinTimeline.Step step : t.steps()) {
          String call = ACTIVITY_CALLS.get(step.activity());
          if (call != null) {
            callMs.computeIfAbsent(call, k -> new ArrayList<>()).add((double) step.durationMs());
          }
        }
      }
      return new Outcome(millis(last - t0), joinMs, joinAndPromoteMs, failures, timelines, callMs, cpuBusy,
          historyEvents, promoteTimelines);
    } finally {
      runners.shutdownNow();
    }
  }

  /** One join: started, joined (learner everywhere), ended (a voter everywhere, with --promote). */
  private record Timed(Node node, long start, long joined, long end, JoinResponse response, String failure) {}

  /**
   * Makes a joined node a voter in every group. The workflow's promotion was started by the
   * gateway when the join succeeded: this waits for it to end; the baselines promote themselves.
   */
  private void promoteOne(BenchMode mode, Node node) throws Exception {
    if (mode == BenchMode.WORKFLOW) {
      awaitPromotion(node);
    } else {
      baselines.promote(mode, node);
    }
  }

  /** Waits for the node's promotion workflow to end, and fails unless it made the node a voter everywhere. */
  private void awaitPromotion(Node node) throws Exception {
    String id = PromoteWorkflow.workflowId(seed.identity().clusterId(), node.nodeId());
    PromoteResult result = cluster.temporal().client().newUntypedWorkflowStub(id)
        .getResult(PROMOTE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS, PromoteResult.class);
    if (!result.success()) {
      throw new IllegalStateException("promotion " + id + " failed: " + result.error());
    }
  }

  /**
   * Makes the cluster's own nodes 2..N voters of every group, so the measured joins meet groups
   * of N voters. Their promotions were started by their joins: with the benchmark's held window
   * they are ended and the nodes promoted here, through the seed; otherwise they are awaited.
   *
   * @param held whether the cluster's promotions hold their window (the joins are measured
   *     without promotion)
   */
  void promoteClusterNodes(boolean held) throws Exception {
    List<Node> others = cluster.nodes().subList(1, cluster.nodes().size());
    if (held) {
      stopPromotions(others);
    }
    for (Node node : others) {
      if (held) {
        baselines.promoteEverywhere(node);
      } else {
        awaitPromotion(node);
      }
    }
  }

  /** @return the gateway's answer for a workflow join, null for a baseline */
  private JoinResponse joinOne(BenchMode mode, Node node) throws Exception {
    return switch (mode) {
      case WORKFLOW -> cluster.join(node, line -> { });
      case DIRECT, SEQUENTIAL -> {
        baselines.join(mode, node);
        yield null;
      }
    };
  }

  private Collection<RaftPeer> candidates(int group) {
    return seed.candidates(seed.localMetadata(), group);
  }

  /** Each workflow join's timeline from its history, read after the clock stopped. */
  private List<JoinTimeline> timelines(List<Timed> done, List<Integer> historyEvents) {
    List<JoinTimeline> out = new ArrayList<>();
    for (Timed t : done) {
      if (t.response() == null || t.response().getWorkflowId().isEmpty()) {
        continue;
      }
      try {
        List<HistoryEvent> events = cluster.temporal().client()
            .fetchHistory(t.response().getWorkflowId(), t.response().getRunId()).getEvents();
        historyEvents.add(events.size());
        out.add(JoinTimeline.of(events));
      } catch (RuntimeException e) {
        // The timeline only explains the number; the join itself was measured.
      }
    }
    return out;
  }

  /** Each workflow join's promotion timeline from its history, read after the clock stopped. */
  private List<JoinTimeline> promoteTimelines(List<Timed> done) {
    List<JoinTimeline> out = new ArrayList<>();
    for (Timed t : done) {
      if (t.response() == null || t.response().getWorkflowId().isEmpty()) {
        continue;
      }
      try {
        out.add(JoinTimeline.of(cluster.temporal().client()
            .fetchHistory(PromoteWorkflow.workflowId(seed.identity().clusterId(), t.node().nodeId())).getEvents()));
      } catch (RuntimeException e) {
        // Like the join's timeline: it explains the number, which was measured.
      }
    }
    return out;
  }

  /**
   * Takes the nodes out of every group and out of the topology, then closes them, so the next
   * mode meets the cluster this one met. Learners left behind would make the leader
   * replicate to ever more peers, and a closed node left in the topology would make every later
   * join's broadcast wait for it.
   *
   * @return what could not be undone (empty when the cluster is back to its state before)
   */
  List<String> retire(List<Node> nodes) throws InterruptedException {
    List<String> problems = new ArrayList<>();
    stopPromotions(nodes);
    List<Future<?>> removals = new ArrayList<>();
    for (Node node : nodes) {
      for (int g = 0; g <= settings.dataGroups(); g++) {
        int group = g;
        removals.add(chores.submit(() ->
            seed.membership().changes().removeMember(seed.groupId(group), node.self(), candidates(group))));
      }
    }
    for (Future<?> f : removals) {
      try {
        f.get();
      } catch (ExecutionException e) {
        problems.add("removing a learner failed: " + describe(e.getCause()));
      }
    }
    Batch.Builder evict = Batch.newBuilder();
    for (Node node : nodes) {
      evict.addCommands(MetadataCommand.newBuilder().setRemoveNode(RemoveNode.newBuilder().setNodeId(node.nodeId())));
    }
    try {
      seed.propose(MetadataCommand.newBuilder().setBatch(evict).build());
    } catch (StatusException e) {
      problems.add("evicting nodes from the topology failed: " + describe(e));
    }
    closeAll(nodes);
    for (Node node : nodes) {
      DevCluster.deleteRecursively(node.config().dataDir());
    }
    return problems;
  }

  /**
   * Ends the promotions that successful workflow joins started (the benchmark measures joins):
   * a promotion left running would compete with the next repetition for the CPU and for the
   * groups' configurations. Their stabilization window keeps them from changing anything first.
   */
  private void stopPromotions(List<Node> nodes) {
    long clusterId = seed.identity().clusterId();
    for (Node node : nodes) {
      try {
        cluster.temporal().client().newUntypedWorkflowStub(PromoteWorkflow.workflowId(clusterId, node.nodeId()))
            .terminate("the benchmark measures joins only");
      } catch (WorkflowNotFoundException e) {
        // a baseline join, or a workflow join that did not succeed: nothing was started
      } catch (RuntimeException e) {
        // already closed, or Temporal is busy: the held window still keeps it from acting
      }
    }
  }

  private static void closeAll(List<Node> nodes) throws InterruptedException {
    List<CompletableFuture<Void>> closing = new ArrayList<>();
    for (Node n : nodes) {
      closing.add(n.closeAsync());
    }
    try {
      CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      // Closing goes on in the background; a closing node holds only ports no later node uses.
    }
  }

  @Override
  public void close() {
    chores.shutdownNow();
  }

  /** CPU time of this whole process (every thread), or -1 where the JVM does not report it. */
  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  static double millis(long nanos) {
    return Math.round(nanos / 100_000.0) / 10.0;
  }

  static String describe(Throwable t) {
    if (t instanceof StatusRuntimeException s) {
      return s.getStatus().getCode() + " " + s.getStatus().getDescription();
    }
    if (t instanceof StatusException s) {
      return s.getStatus().getCode() + " " + s.getStatus().getDescription();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
