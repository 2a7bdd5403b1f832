package io.joinflow.cli;

import io.joinflow.node.raft.RaftSettings;
import java.time.Duration;

/**
 * One point of a benchmark series: a fresh cluster of one seed with {@code groups} data groups,
 * into which {@code concurrent} fresh empty nodes join at the same time, once per repetition.
 *
 * @param series {@link #GROUPS} (one join, varying the groups), {@link #CONCURRENT}
 *     (simultaneous joins at a fixed number of groups) or {@link #JVM_WARMUP} (unmeasured joins
 *     before the first point)
 */
record BenchPoint(String series, int groups, int concurrent) {
  static final String GROUPS = "groups";
  static final String CONCURRENT = "concurrent";
  static final String JVM_WARMUP = "jvm-warmup";
  /**
   * From this many data groups on, the cluster runs with 1 s / 2 s election timeouts: on two
   * cores the default timeouts' heartbeats alone keep the CPU busy at 64 groups (RATIS.md).
   */
  static final int LONG_ELECTION_FROM_GROUPS = 64;

  String label() {
    return switch (series) {
      case GROUPS -> "groups=" + groups;
      case JVM_WARMUP -> "JVM warm-up @" + groups + "g";
      default -> "concurrent=" + concurrent + " @" + groups + "g";
    };
  }

  RaftSettings raft() {
    RaftSettings defaults = RaftSettings.defaults();
    return groups >= LONG_ELECTION_FROM_GROUPS
        ? defaults.withElection(Duration.ofSeconds(1), Duration.ofSeconds(2))
        : defaults;
  }
}
