package io.joinflow.cli;

import io.joinflow.node.Node;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The benchmark's baselines: a join and a promotion driven straight through the seed's
 * membership parts, with no workflow — every group at once ({@link BenchMode#DIRECT}) or one
 * after another ({@link BenchMode#SEQUENTIAL}). Each per-group call's latency goes to the shared
 * {@code calls} by name.
 */
final class BenchBaselines {
  private static final Duration CATCH_UP_TIMEOUT = Duration.ofMinutes(2);

  private final Node seed;
  private final int dataGroups;
  private final long stabilizationMs;
  private final Map<String, List<Double>> calls;

  BenchBaselines(Node seed, int dataGroups, long stabilizationMs, Map<String, List<Double>> calls) {
    this.seed = seed;
    this.dataGroups = dataGroups;
    this.stabilizationMs = stabilizationMs;
    this.calls = calls;
  }

  /** Makes {@code node} a caught-up learner of every group. */
  void join(BenchMode mode, Node node) throws Exception {
    if (mode == BenchMode.DIRECT) {
      // No bound: the least time the substrate needs is one group's change and catch-up, as
      // long as the groups do not wait for each other.
      everyGroupAtOnce("bench-direct-" + node.nodeId(), group -> {
        addLearner(node, group);
        awaitCaughtUp(node, group);
      });
    } else {
      for (int g = 0; g <= dataGroups; g++) {
        addLearner(node, g);
      }
      for (int g = 0; g <= dataGroups; g++) {
        awaitCaughtUp(node, g);
      }
    }
  }

  /** Waits the stabilization window, as the workflow's promotion does, then promotes. */
  void promote(BenchMode mode, Node node) throws Exception {
    Thread.sleep(stabilizationMs);
    if (mode == BenchMode.DIRECT) {
      everyGroupAtOnce("bench-promote-" + node.nodeId(), group -> promoteIn(node, group));
    } else {
      promoteEverywhere(node);
    }
  }

  /** Promotes {@code node} in every group, one after another. */
  void promoteEverywhere(Node node) throws IOException {
    for (int g = 0; g <= dataGroups; g++) {
      promoteIn(node, g);
    }
  }

  private interface GroupCall {
    void run(int group) throws Exception;
  }

  private void everyGroupAtOnce(String threads, GroupCall call) throws Exception {
    ExecutorService groups = Executors.newFixedThreadPool(dataGroups + 1, BenchJoins.daemon(threads));
    try {
      List<Future<Void>> perGroup = new ArrayList<>();
      for (int g = 0; g <= dataGroups; g++) {
        int group = g;
        perGroup.add(groups.submit(() -> {
          call.run(group);
          return null;
        }));
      }
      for (Future<Void> f : perGroup) {
        try {
          f.get();
        } catch (ExecutionException e) {
          throw e.getCause() instanceof Exception c ? c : e;
        }
      }
    } finally {
      groups.shutdownNow();
    }
  }

  private void promoteIn(Node node, int group) throws IOException {
    long start = System.nanoTime();
    seed.membership().changes().promote(seed.groupId(group), node.self().getId(), candidates(group), 0);
    record(BenchJoins.PROMOTE, start);
  }

  private void addLearner(Node node, int group) throws IOException {
    long start = System.nanoTime();
    seed.membership().changes().addLearner(seed.groupId(group), node.self(), candidates(group));
    record(BenchJoins.ADD_LEARNER, start);
  }

  private void awaitCaughtUp(Node node, int group) throws IOException {
    long start = System.nanoTime();
    seed.membership().watch().awaitCaughtUp(seed.groupId(group), node.self(), candidates(group), CATCH_UP_TIMEOUT);
    record(BenchJoins.AWAIT_CAUGHT_UP, start);
  }

  private void record(String call, long startNanos) {
    calls.computeIfAbsent(call, k -> Collections.synchronizedList(new ArrayList<>()))
        .add(BenchJoins.millis(System.nanoTime() - startNanos));
  }

  private Collection<RaftPeer> candidates(int group) {
    return seed.candidates(seed.localMetadata(), group);
  }
}
