package io.joinflow.cli;

import io.joinflow.node.raft.RaftSettings;
import java.time.Duration;

/**
 * One point of a benchmark series: a fresh cluster of {@code voters} nodes, each a voter of all
 * {@code groups} data groups, into which {@code concurrent} fresh empty nodes join at the same
 * time, once per repetition.
 *
 * @param series {@link #GROUPS} (one join, varying the groups), {@link #CONCURRENT}
 *     (simultaneous joins at a fixed number of groups) or {@link #JVM_WARMUP} (unmeasured joins
 *     before the first point)
 * @param voters voters per group of the cluster the nodes join (the seed and nodes 2..voters)
 * @param promote whether a join is measured until its node votes in every group
 */
record BenchPoint(String series, int groups, int concurrent, int voters, boolean promote) {
  static final String GROUPS = "groups";
  static final String CONCURRENT = "concurrent";
  static final String JVM_WARMUP = "jvm-warmup";
  /**
   * From this many data groups on, the cluster runs with 1 s / 2 s election timeouts: on two
   * cores the default timeouts' heartbeats alone keep the CPU busy at 64 groups (RATIS.md).
   */
  static final int LONG_ELECTION_FROM_GROUPS = 64;

  /** A point on a one-voter cluster, measured to the end of the join. */
  BenchPoint(String series, int groups, int concurrent) {
    this(series, groups, concurrent, 1, false);
  }

  String label() {
    String base = switch (series) {
      case GROUPS -> "groups=" + groups;
      case JVM_WARMUP -> "JVM warm-up @" + groups + "g";
      default -> "concurrent=" + concurrent + " @" + groups + "g";
    };
    return base + (voters > 1 ? " v" + voters : "") + (promote ? " +p" : "");
  }

  RaftSettings raft() {
    RaftSettings defaults = RaftSettings.defaults();
    return groups >= LONG_ELECTION_FROM_GROUPS
        ? defaults.withElection(Duration.ofSeconds(1), Duration.ofSeconds(2))
        : defaults;
  }
}
