package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.joinflow.cli.StepTrigger.When;
import io.joinflow.workflows.JoinOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * The crash matrix: a node joins a three-voter cluster while one role is stopped abruptly at
 * one point of the join, for every role x point x seed; after each run the five invariants of
 * a crash-safe join are checked (see {@link #check}). One cluster serves every run: the joined
 * node is taken out again afterwards, and each run joins a node id never used before.
 *
 * <p>Every cell runs in the default build, with one seed each (40 runs). The first seed is
 * derived from the commit under test (so successive commits cover other seeds) and printed with
 * the command that replays the run; {@code -Djoinflow.crash.seed=S} fixes it,
 * {@code -Djoinflow.crash.seeds=N} runs N seeds per cell (the large sweep), and
 * {@code -Djoinflow.crash.roles=...} / {@code -Djoinflow.crash.points=...} pick cells. A cell's
 * seed depends only on the first seed and the cell's place in the matrix, so a filtered run
 * replays the same seed. Each run is bounded by {@link #RUN_TIMEOUT} and fails with its own
 * name when it hangs.
 */
// Bounds the factory and the lifecycle; each dynamic run is bounded by RUN_TIMEOUT.
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CrashMatrixIT {
  static final int DATA_GROUPS = 3;
  /** Short, so a join whose worker died mid-step compensates instead of waiting minutes. */
  static final JoinOptions JOIN_OPTIONS = new JoinOptions(20_000, 16);
  private static final int SEEDS = Integer.getInteger("joinflow.crash.seeds", 1);
  private static final CrashSeeds.First FIRST = CrashSeeds.first(System.getProperty("joinflow.crash.seed"));
  private static final long FIRST_SEED = FIRST.seed();
  /** A run takes 6-17 s here; a run still going after this is a hang, reported by its name. */
  static final Duration RUN_TIMEOUT = Duration.ofMinutes(3);
  /** Optional comma-separated filters, e.g. {@code -Djoinflow.crash.roles=WORKER}. */
  private static final String ROLES = System.getProperty("joinflow.crash.roles", "");
  private static final String POINTS = System.getProperty("joinflow.crash.points", "");

  private static CrashCluster cluster;
  /** Each run joins a node id of its own, from this one up. */
  private static final int FIRST_NODE = 10;
  private static final AtomicInteger nextNode = new AtomicInteger(FIRST_NODE);
  private static final List<String> summary = new ArrayList<>();
  private static long matrixStarted;

  enum Role { GROUP0_LEADER, DATA_LEADER, WORKER, GATEWAY }

  /** Where the join is interrupted. {@code group}: -1 = the first group to get there, 0 = the run's data group. */
  enum Point {
    BEFORE_VALIDATE("validate", false, When.START),
    BEFORE_REGISTER_PEER("registerPeer", false, When.START),
    BEFORE_ADMIT("admit", false, When.START),
    BEFORE_ADD_LEARNER("addLearner", false, When.START),
    /** The data group's division is hosted on the joining node; its conf change is not proposed yet. */
    ADD_LEARNER_BEFORE_COMMIT("addLearner", true, When.START),
    /** The data group's conf change committed; the step's result has not reached Temporal. */
    ADD_LEARNER_AFTER_COMMIT("addLearner", true, When.END),
    BEFORE_AWAIT_LEARNER("awaitLearner", false, When.START),
    /** The data group's wait is in progress (first heartbeat), or just ended if it never had to wait. */
    INSIDE_AWAIT_LEARNER("awaitLearner", true, When.FIRST_HEARTBEAT_OR_END),
    BEFORE_PERSIST("persist", false, When.START),
    BEFORE_BROADCAST("broadcast", false, When.START);

    final String activity;
    final boolean dataGroup;
    final When when;

    Point(String activity, boolean dataGroup, When when) {
      this.activity = activity;
      this.dataGroup = dataGroup;
      this.when = when;
    }
  }

  @BeforeAll
  static void start() throws Exception {
    long t0 = System.nanoTime();
    int runs = SEEDS * Role.values().length * Point.values().length;
    cluster = CrashCluster.start(DATA_GROUPS, JOIN_OPTIONS, FIRST_NODE + runs,
        line -> System.out.println("[crash] " + line));
    System.out.println("[crash] cluster ready in " + ms(t0) + " ms");
    System.out.println("[crash] " + SEEDS + " seed(s) per cell, first seed " + FIRST_SEED + " (" + FIRST.source()
        + "); replay with -Djoinflow.crash.seed=" + FIRST_SEED);
    matrixStarted = System.nanoTime();
  }

  @AfterAll
  static void stop() {
    System.out.println("[crash] matrix: " + summary.size() + " runs in " + ms(matrixStarted) + " ms");
    summary.forEach(s -> System.out.println("[crash] " + s));
    if (cluster != null) {
      cluster.close();
    }
  }

  @TestFactory
  Stream<DynamicTest> crashMatrix() {
    List<DynamicTest> tests = new ArrayList<>();
    int cell = 0;
    for (Role role : Role.values()) {
      for (Point point : Point.values()) {
        boolean selected = (ROLES.isEmpty() || List.of(ROLES.split(",")).contains(role.name()))
            && (POINTS.isEmpty() || List.of(POINTS.split(",")).contains(point.name()));
        for (int s = 0; s < SEEDS && selected; s++) {
          long seed = FIRST_SEED + 1000L * s + cell;
          String name = role + " at " + point + " seed " + seed;
          // @Timeout does not reach dynamic tests: bound each run here.
          tests.add(DynamicTest.dynamicTest(name, () -> assertTimeoutPreemptively(RUN_TIMEOUT,
              () -> run(role, point, seed), () -> name + " hung for " + RUN_TIMEOUT.toMinutes() + " min; replay it with"
                  + " -Djoinflow.crash.seed=" + FIRST_SEED + " -Djoinflow.crash.roles=" + role
                  + " -Djoinflow.crash.points=" + point)));
        }
        cell++;
      }
    }
    return tests.stream();
  }

  /** What one run did and found. */
  record Outcome(String answer, boolean joined, List<String> violations) {}

  private static void run(Role role, Point point, long seed) throws Exception {
    long t0 = System.nanoTime();
    Outcome o = CrashRun.run(cluster, role, point, seed, nextNode.getAndIncrement());
    String line = String.format("%-13s %-26s seed %-6d %6d ms  %s%s", role, point, seed, ms(t0), o.answer(),
        o.violations().isEmpty() ? "" : "  VIOLATIONS " + o.violations());
    summary.add(line);
    System.out.println("[crash] " + line);
    assertThat(o.violations()).as("invariants after %s at %s (seed %d)", role, point, seed).isEmpty();
  }

  static long ms(long since) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
  }
}
