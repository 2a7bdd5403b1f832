package io.joinflow.cli;

import io.joinflow.node.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How an in-process cluster stops its nodes quietly (dev, demo, bench). */
final class NodeShutdown {
  private static final Logger LOG = LoggerFactory.getLogger(DevCluster.class);

  private NodeShutdown() {}

  /**
   * Stops the nodes: first, at once, every node leading a group, then, at once, the others,
   * before they elect new leaders. A leader that stops only ends its followers' streams; a
   * follower that stops first leaves its leader retrying, warning and stepping down, and nodes
   * stopped one by one elect leaders among themselves in between (one embedded demo each: 128
   * Ratis warnings all at once, 108 leaders first one by one, 141 followers first, 70 like this).
   * What Ratis still says meanwhile is about peers this cluster stops on purpose: it logs only
   * errors until the nodes are closed, and for the batch window of its BatchLogger after that,
   * which prints "(Repeated N times in the last 5s)" summaries of warnings it held back.
   */
  static void stop(List<Node> nodes) {
    if (nodes.isEmpty()) {
      return;
    }
    List<Node> leaders = nodes.stream().filter(NodeShutdown::leadsAGroup).toList();
    List<Node> others = new ArrayList<>(nodes);
    others.removeAll(leaders);
    LOG.info("stopping nodes {} (leading a group) and then {}; Ratis logs only errors until they are done",
        ids(leaders), ids(others));
    RatisQuiet.enter();
    try {
      closeAll(leaders);
      closeAll(others);
    } finally {
      CompletableFuture.delayedExecutor(RatisQuiet.AFTER_MILLIS, TimeUnit.MILLISECONDS).execute(RatisQuiet::exit);
    }
  }

  private static boolean leadsAGroup(Node node) {
    try {
      return node.hostedGroups().stream()
          .anyMatch(g -> node.division(g).map(d -> d.getInfo().isLeader()).orElse(false));
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static List<String> ids(List<Node> ns) {
    return ns.stream().map(n -> Long.toUnsignedString(n.nodeId())).toList();
  }

  /** Ratis at ERROR while any dev cluster of this process stops its nodes. */
  private static final class RatisQuiet {
    /** How long after the nodes stopped Ratis may still print a batch of warnings it held back. */
    static final long AFTER_MILLIS =
        org.apache.ratis.util.BatchLogger.Key.DEFAULT_DURATION.toLong(TimeUnit.MILLISECONDS) + 1_000;
    private static int stopping;
    private static ch.qos.logback.classic.Level before;

    static synchronized void enter() {
      if (stopping++ == 0 && LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext c) {
        ch.qos.logback.classic.Logger ratis = c.getLogger("org.apache.ratis");
        before = ratis.getLevel();
        ratis.setLevel(ch.qos.logback.classic.Level.ERROR);
      }
    }

    static synchronized void exit() {
      if (--stopping == 0 && LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext c) {
        c.getLogger("org.apache.ratis").setLevel(before);
      }
    }
  }

  private static void closeAll(List<Node> ns) {
    List<CompletableFuture<Void>> closing = new ArrayList<>();
    for (Node n : ns) {
      closing.add(n.closeAsync());
    }
    try {
      CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // shutting down anyway
    }
  }
}
