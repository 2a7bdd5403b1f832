package io.joinflow.cli;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.joinflow.security.Role;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GetPromotionRequest;
import io.joinflow.proto.v1.GroupPromotion;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.PromotionProgress;
import java.io.PrintWriter;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The demo's story while it runs: per-group join and promotion progress, one timestamped line per
 * change.
 */
final class DemoProgress {
  private DemoProgress() {}

  /**
   * Prints per-group progress while the join runs, each time it changes. It asks as often as a
   * joining node's own watch ({@link JoinWatch#POLL_MILLIS}): every answer is a query the
   * workflow's worker runs beside the join's own tasks.
   */
  static void watch(DevCluster cluster, CompletableFuture<JoinResponse> join, PrintWriter out, long t0)
      throws InterruptedException {
    ManagedChannel channel = cluster.channels(Role.OPERATOR).channel(cluster.gatewayAddress().toString());
    try {
      String last = "";
      while (!join.isDone()) {
        try {
          JoinProgress p = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
              .getJoin(GetJoinRequest.newBuilder().setNodeId(DemoCommand.JOINING_NODE).build());
          String line = describe(p);
          if (!line.equals(last) && !p.getPhase().isEmpty()) {
            say(out, t0, line);
            last = line;
          }
        } catch (StatusRuntimeException e) {
          // not started yet
        }
        try {
          join.get(JoinWatch.POLL_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
          // still running, or failed: the caller reports a failure
        }
      }
    } finally {
      channel.shutdownNow();
    }
  }

  /** Prints node 4's promotion's per-group progress each time it changes, until it is done (or 2 minutes). */
  static PromotionProgress watchPromotion(DevCluster cluster, PrintWriter out, long t0)
      throws InterruptedException {
    return awaitPromotion(cluster, DemoCommand.JOINING_NODE, line -> say(out, t0, line));
  }

  /**
   * Follows a node's promotion until it is done (or 2 minutes), passing each change of its
   * per-group progress to {@code lines}. Returns the last progress read; null if none was.
   */
  static PromotionProgress awaitPromotion(DevCluster cluster, long nodeId, java.util.function.Consumer<String> lines)
      throws InterruptedException {
    ManagedChannel channel = cluster.channels(Role.OPERATOR).channel(cluster.gatewayAddress().toString());
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      String last = "";
      PromotionProgress p = null;
      while (System.nanoTime() < deadline) {
        try {
          p = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
              .getPromotion(GetPromotionRequest.newBuilder().setNodeId(nodeId).build());
          Map<String, Long> byState = p.getGroupsList().stream()
              .collect(Collectors.groupingBy(GroupPromotion::getState, TreeMap::new, Collectors.counting()));
          String line = "promotion " + p.getPhase() + ": " + byState;
          if (!line.equals(last)) {
            lines.accept(line);
            last = line;
          }
          if (p.getDone()) {
            return p;
          }
        } catch (StatusRuntimeException e) {
          // not started yet
        }
        Thread.sleep(100);
      }
      return p;
    } finally {
      channel.shutdownNow();
    }
  }

  static String describe(JoinProgress p) {
    long learners = p.getGroupsList().stream().filter(g -> !g.getState().equals("pending")).count();
    long caughtUp = p.getGroupsList().stream().filter(g -> g.getState().equals("caught-up")).count();
    String pending = p.getGroupsList().stream().filter(g -> g.getState().equals("pending"))
        .map(g -> String.valueOf(g.getGroupId())).collect(Collectors.joining(","));
    return String.format("phase %-12s learner in %d/%d groups, caught up in %d%s", p.getPhase(), learners,
        p.getGroupsCount(), caughtUp, pending.isEmpty() ? "" : " (pending: " + pending + ")");
  }

  static String describe(Throwable t) {
    if (t instanceof StatusRuntimeException s) {
      return s.getStatus().getCode() + " " + s.getStatus().getDescription();
    }
    return String.valueOf(t.getMessage());
  }

  static void say(PrintWriter out, long t0, String line) {
    synchronized (out) {
      out.printf("[%6d ms] %s%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), line);
      out.flush();
    }
  }
}
