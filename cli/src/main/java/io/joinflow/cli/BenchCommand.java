package io.joinflow.cli;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.joinflow.node.Node;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.PromoteOptions;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow bench}: join latency through the workflow against two baselines measured on
 * the same cluster in the same run — {@link BenchMode#DIRECT direct} (the Raft minimum) and
 * {@link BenchMode#SEQUENTIAL sequential} (the seed's algorithm). Every repetition of every
 * series point runs on a fresh in-process cluster with a fresh Temporal (a dev server with its
 * history in memory, or the embedded test server, which slows with use; with {@code --temporal
 * env} one cluster serves every repetition), and each mode joins fresh empty nodes, which are
 * taken out again before the next mode.
 *
 * <p>Prints a table to stdout, progress to stderr, and writes everything to a JSON file. Exit 0
 * when every join succeeded (whether or not the targets were met), 1 when a join or a point
 * failed, 2 on bad input.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Measures join latency (workflow vs. direct and sequential baselines) on fresh in-process clusters.")
public final class BenchCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /**
   * Loggers that narrate every join at INFO. Writing that for every measured join costs the
   * joins CPU on a small machine, so the log file gets their warnings and errors only, unless
   * --verbose. Their warnings (the cleanup between modes causes some on purpose: interrupted
   * log appenders, a terminated promotion's last reads finding the node gone) stay in the file;
   * the bench reports failures itself, so the terminal gets joinflow's errors only.
   */
  private static final List<String> CHATTY_LOGGERS = List.of("io.joinflow", "io.temporal", "org.apache.ratis");
  /** What the JVM warm-up joins: the smallest point of the targets, one join into 8 groups. */
  private static final BenchPoint JVM_WARMUP_POINT = new BenchPoint(BenchPoint.JVM_WARMUP, 8, 1);
  /**
   * Every successful join starts its node's promotion; the benchmark measures joins, so the
   * cleanup after each repetition terminates it. Until then its stabilization window (longer
   * than any point) keeps it from changing a configuration under the cleanup.
   */
  private static final PromoteOptions HELD_PROMOTION = new PromoteOptions(Duration.ofDays(1).toMillis(),
      PromoteOptions.DEFAULT_CATCH_UP_DEADLINE_MILLIS, 0, PromoteOptions.DEFAULT_FAN_OUT);

  @Spec
  private CommandSpec spec;

  @Option(names = "--groups", split = ",", defaultValue = "1,8,16,64", paramLabel = "N",
      description = "Series of data group counts, one join each (default: ${DEFAULT-VALUE}).")
  List<Integer> groups;

  @Option(names = "--concurrent", split = ",", defaultValue = "1,4,8,16", paramLabel = "N",
      description = "Series of simultaneous joins at --concurrent-groups groups (default: ${DEFAULT-VALUE}).")
  List<Integer> concurrent;

  @Option(names = "--concurrent-groups", defaultValue = "8",
      description = "Data groups of the concurrency series' clusters (default: ${DEFAULT-VALUE}).")
  int concurrentGroups;

  @Option(names = "--reps", defaultValue = "5",
      description = "Measured repetitions per point (default: ${DEFAULT-VALUE}).")
  int reps;

  @Option(names = "--warmup", defaultValue = "1",
      description = "Unmeasured repetitions per point before the measured ones (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--jvm-warmup", defaultValue = "3",
      description = "Unmeasured repetitions of a one-join, 8-group point before the first point, so the"
          + " first point does not pay for compiling the code the later ones run compiled"
          + " (default: ${DEFAULT-VALUE}).")
  int jvmWarmup;

  @Option(names = "--fan-out", defaultValue = "" + JoinOptions.DEFAULT_FAN_OUT,
      description = "Learner additions one workflow join makes at once (default: ${DEFAULT-VALUE}, the"
          + " workflow's default). The direct baseline always works on all groups at once.")
  int fanOut;

  @Option(names = "--out", defaultValue = "bench-results.json",
      description = "JSON results file (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--port-base", defaultValue = "7500",
      description = "Temporal on BASE, gateway on BASE+1, node i on BASE+10i (default: ${DEFAULT-VALUE}).")
  int portBase;

  @Option(names = "--data-dir",
      description = "Where the clusters keep their data (default: a temporary directory). Emptied after each point,"
          + " but for the log (" + CommandLog.FILE_NAME + ").")
  Path dataDir;

  @Option(names = "--skip-baselines", description = "Measure the workflow only.")
  boolean skipBaselines;

  @Option(names = "--voters", defaultValue = "1",
      description = "Voters per group of the cluster the nodes join: nodes 2..N join and are promoted before"
          + " anything is measured (default: ${DEFAULT-VALUE}, the seed alone).")
  int voters;

  @Option(names = "--promote",
      description = "Measure each join until its node votes in every group (JSON: join_and_promote_ms next to"
          + " join_ms); the baselines promote too, after the same --stabilization-ms.")
  boolean promote;

  @Option(names = "--insecure", description = "Run the clusters plaintext, to measure what mutual TLS costs"
      + " (default: mutual TLS on every port, as joinflow runs; JSON: tls).")
  boolean insecure;

  @Mixin
  StabilizationOption stabilization = new StabilizationOption();

  @Mixin
  LogOptions logOptions = new LogOptions();

  @Mixin
  TemporalOptions temporalOptions = new TemporalOptions();

  private TemporalChoice temporal;
  /** What the last repetition's Temporal said of itself (for the report). */
  private volatile String temporalSeen;

  private long t0;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String invalid = validate();
    if (invalid == null) {
      try {
        temporal = temporalOptions.choose();
      } catch (IllegalArgumentException e) {
        invalid = e.getMessage();
      }
    }
    if (invalid != null) {
      err.println("joinflow bench: " + invalid);
      err.flush();
      return 2;
    }
    List<BenchMode> modes = skipBaselines ? List.of(BenchMode.WORKFLOW) : List.of(BenchMode.values());
    List<BenchPoint> points = new ArrayList<>();
    groups.forEach(g -> points.add(new BenchPoint(BenchPoint.GROUPS, g, 1, voters, promote)));
    concurrent.forEach(c -> points.add(new BenchPoint(BenchPoint.CONCURRENT, concurrentGroups, c, voters, promote)));
    BenchReport.Plan plan = new BenchReport.Plan(List.copyOf(groups), List.copyOf(concurrent), concurrentGroups,
        reps, warmup, jvmWarmup, fanOut, !skipBaselines, voters, promote, stabilization.stabilizationMs, !insecure);

    boolean temporary = dataDir == null;
    Path root = temporary ? Files.createTempDirectory("joinflow-bench") : Files.createDirectories(dataDir);
    t0 = System.nanoTime();
    List<BenchReport.PointResult> results = new ArrayList<>();
    CommandLog log = logOptions.open(root.resolve(CommandLog.FILE_NAME), CommandLog.Terminal.ERRORS, err);
    try (log) {
      if (!logOptions.verbose) {
        log.raise(Level.WARN, CHATTY_LOGGERS);
      }
      if (log.where() != null) {
        say(err, log.where());
      }
      say(err, insecure ? SecurityOptions.insecureWarning("every benchmark cluster")
          : "mutual TLS on every port of every cluster (--insecure measures without)");
      say(err, "temporal: " + temporal.mode().label() + " (" + temporal.reason() + "), a fresh one per repetition"
          + (temporal.hint() == null ? "" : "; " + temporal.hint()));
      if (jvmWarmup > 0) {
        BenchReport.PointResult warm = run(root, new BenchPoint(JVM_WARMUP_POINT.series(), JVM_WARMUP_POINT.groups(),
            JVM_WARMUP_POINT.concurrent(), voters, promote), modes, jvmWarmup, 0, err);
        if (warm.error() != null || !warm.problems().isEmpty()) {
          say(err, "JVM warm-up: " + (warm.error() != null ? warm.error() : warm.problems().get(0))
              + " (not measured; the points follow)");
        }
      }
      for (BenchPoint point : points) {
        results.add(run(root, point, modes, warmup, reps, err));
      }
    } finally {
      if (temporary) {
        DevCluster.deleteRecursively(root, log.file().orElse(null));
      }
    }
    BenchReport report = BenchReport.of(BenchReport.Machine.current(), plan, results);
    Path file = out.toAbsolutePath();
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    var json = report.json(JSON);
    json.put("temporal_mode", temporal.mode().label());
    json.put("temporal_address", temporal.mode() == io.joinflow.worker.TemporalConnection.Mode.ENV
        ? temporal.env().get("TEMPORAL_ADDRESS") : "127.0.0.1:" + portBase);
    json.put("temporal_namespace", temporal.mode() == io.joinflow.worker.TemporalConnection.Mode.CLI
        ? io.joinflow.worker.TemporalConnection.DEV_NAMESPACE : temporalNamespace());
    // Every repetition's own server is gone by now: there is no UI to link to.
    json.putNull("ui_url");
    json.put("temporal_server", temporalSeen);
    JSON.writeValue(file.toFile(), json);
    stdout.println();
    stdout.print(report.table());
    stdout.println();
    stdout.println("results written to " + out);
    stdout.flush();
    return report.allJoinsSucceeded() ? 0 : 1;
  }

  private String validate() {
    if (groups.isEmpty() && concurrent.isEmpty()) {
      return "nothing to measure: give --groups or --concurrent";
    }
    for (int g : groups) {
      if (g < 1 || g > 1024) {
        return "--groups values must be 1..1024, not " + g;
      }
    }
    for (int c : concurrent) {
      if (c < 1 || c > 64) {
        return "--concurrent values must be 1..64, not " + c;
      }
    }
    if (concurrentGroups < 1 || concurrentGroups > 1024) {
      return "--concurrent-groups must be 1..1024";
    }
    if (fanOut < 1 || fanOut > 1025) {
      return "--fan-out must be 1..1025";
    }
    if (reps < 1 || warmup < 0 || jvmWarmup < 0) {
      return "--reps must be at least 1, --warmup and --jvm-warmup at least 0";
    }
    if (voters < 1 || voters > 7) {
      return "--voters must be 1..7, not " + voters;
    }
    if (stabilization.invalid() != null) {
      return stabilization.invalid();
    }
    // Every repetition of every mode joins fresh nodes with fresh ids (node i on BASE+10i).
    int widest = Math.max(1, concurrent.stream().mapToInt(Integer::intValue).max().orElse(1));
    long lastId = voters + Math.max((long) (warmup + reps) * widest, jvmWarmup)
        * (skipBaselines ? 1 : BenchMode.values().length);
    if (portBase < 1024 || portBase + 10 * lastId + 1 > 65_535) {
      return "--port-base " + portBase + " leaves no room for " + (lastId - 1) + " joining nodes (node i listens on "
          + "BASE+10i and BASE+10i+1); choose 1024.." + (65_535 - 10 * lastId - 1) + " or fewer --reps";
    }
    return null;
  }

  /**
   * Runs one point: every repetition on a fresh cluster, because a learner replays every
   * configuration change since the group's last snapshot (with an fsync each), so on a reused
   * cluster each repetition would meet a longer history than the one before. The modes of one
   * repetition share its cluster, the node ids and ports of a point are never reused, and the
   * mode that goes first rotates, so no mode always meets the cleanest cluster. A failure to
   * start or run a repetition ends the point and is recorded, not thrown.
   */
  private BenchReport.PointResult run(Path root, BenchPoint point, List<BenchMode> modes, int warmup, int reps,
                                     PrintWriter err) throws Exception {
    Path dir = Files.createDirectories(root.resolve("bench-" + point.label().replaceAll("[^A-Za-z0-9]+", "-")));
    Map<BenchMode, Samples> samples = new EnumMap<>(BenchMode.class);
    modes.forEach(m -> samples.put(m, new Samples()));
    List<String> problems = new ArrayList<>();
    String error = null;
    // The cluster's own nodes are 1..voters; the joining nodes come after them.
    AtomicLong ids = new AtomicLong(point.voters() + 1L);
    double loadBefore = loadAverage();
    say(err, point.label() + ": a fresh cluster for each of " + (warmup + reps) + " repetitions ("
        + point.voters() + " voter" + (point.voters() == 1 ? ", the seed, " : "s, ")
        + point.groups() + " data groups, election " + point.raft().electionMin().toMillis() + "-"
        + point.raft().electionMax().toMillis() + " ms; load average " + String.format("%.2f", loadBefore) + ")");
    try {
      for (int round = 0; round < warmup + reps; round++) {
        boolean measured = round >= warmup;
        List<BenchMode> order = new ArrayList<>(modes);
        Collections.rotate(order, -(round - warmup));
        Path roundDir = dir.resolve("round-" + round);
        DevCluster.Settings settings = new DevCluster.Settings(point.voters(), point.groups(), portBase, roundDir,
            new JoinOptions(JoinOptions.DEFAULT_DEADLINE_MILLIS, fanOut), point.raft(),
            point.promote() ? stabilization.promoteOptions() : HELD_PROMOTION)
            .withTemporal(temporal, false).withSecure(!insecure);
        StringBuilder line = new StringBuilder(point.label()).append(measured
            ? ": rep " + (round - warmup + 1) + "/" + reps : ": warm-up " + (round + 1) + "/" + warmup);
        try (DevCluster cluster = DevCluster.start(settings, l -> { });
             BenchJoins joins = new BenchJoins(cluster, settings, ids::getAndIncrement, point.promote(),
                 stabilization.stabilizationMs)) {
          temporalSeen = cluster.temporal().describe();
          joins.promoteClusterNodes(!point.promote());
          for (BenchMode mode : order) {
            List<Node> nodes = joins.startNodes(point.concurrent());
            BenchJoins.Outcome outcome;
            try {
              outcome = joins.join(mode, nodes);
            } finally {
              problems.addAll(joins.retire(nodes));
            }
            if (measured) {
              samples.get(mode).add(outcome);
            } else {
              // Not measured, but a join that fails while warming up says the point is unstable.
              outcome.failures().forEach(f -> problems.add("warm-up " + mode.label() + ": " + f));
            }
            line.append(String.format(" %s %.0f ms%s", mode.label(), outcome.totalMs(), outcome.succeeded() ? ""
                : " (" + outcome.failures().size() + " failed: " + outcome.failures().get(0) + ")"));
          }
        } finally {
          DevCluster.deleteRecursively(roundDir);
        }
        say(err, line.toString());
      }
    } catch (Exception e) {
      error = BenchJoins.describe(e);
      say(err, point.label() + ": failed: " + error);
    } finally {
      DevCluster.deleteRecursively(dir);
    }
    Map<BenchMode, BenchReport.ModeResult> results = new LinkedHashMap<>();
    samples.forEach((mode, s) -> results.put(mode, s.result()));
    return new BenchReport.PointResult(point, point.raft(), results, problems, error, loadBefore, loadAverage());
  }

  /** Measurements of one mode at one point, as the repetitions come in. */
  private static final class Samples {
    private final List<Double> batchMs = new ArrayList<>();
    private final List<Double> joinMs = new ArrayList<>();
    private final List<Double> joinAndPromoteMs = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final List<JoinTimeline> timelines = new ArrayList<>();
    private final List<JoinTimeline> promoteTimelines = new ArrayList<>();
    private final Map<String, List<Double>> callMs = new LinkedHashMap<>();
    private final List<Double> cpuBusy = new ArrayList<>();
    private final List<Double> historyEvents = new ArrayList<>();

    void add(BenchJoins.Outcome o) {
      // A batch with a failed join never ended "when all joined": it has no batch time.
      if (o.succeeded()) {
        batchMs.add(o.totalMs());
      }
      joinMs.addAll(o.joinMs());
      joinAndPromoteMs.addAll(o.joinAndPromoteMs());
      failures.addAll(o.failures());
      timelines.addAll(o.timelines());
      promoteTimelines.addAll(o.promoteTimelines());
      o.callMs().forEach((call, ms) -> callMs.computeIfAbsent(call, k -> new ArrayList<>()).addAll(ms));
      o.historyEvents().forEach(n -> historyEvents.add((double) n));
      if (!Double.isNaN(o.cpuBusy())) {
        cpuBusy.add(o.cpuBusy());
      }
    }

    BenchReport.ModeResult result() {
      Map<String, LatencyStats> calls = new LinkedHashMap<>();
      callMs.forEach((call, ms) -> calls.put(call, LatencyStats.of(ms)));
      return new BenchReport.ModeResult(LatencyStats.of(batchMs), LatencyStats.of(joinMs),
          LatencyStats.of(joinAndPromoteMs), List.copyOf(failures),
          BenchReport.medianSteps(timelines),
          LatencyStats.of(timelines.stream().map(t -> (double) t.totalMs()).toList()), calls,
          LatencyStats.of(cpuBusy).median(), LatencyStats.of(historyEvents).max(),
          BenchReport.medianSteps(promoteTimelines),
          LatencyStats.of(promoteTimelines.stream().map(t -> (double) t.totalMs()).toList()));
    }
  }

  private String temporalNamespace() {
    String ns = temporal.env().get("TEMPORAL_NAMESPACE");
    return temporal.mode() == io.joinflow.worker.TemporalConnection.Mode.ENV && ns != null && !ns.isEmpty()
        ? ns : io.joinflow.worker.TemporalConnection.EMBEDDED_NAMESPACE;
  }

  /**
   * The machine's one-minute load average (NaN where the OS has none): other work on a 2-core
   * machine moves the absolute numbers, so the report keeps it next to them.
   */
  private static double loadAverage() {
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return load < 0 ? Double.NaN : load;
  }

  private void say(PrintWriter err, String line) {
    synchronized (err) {
      err.printf("[%7.1f s] %s%n", (System.nanoTime() - t0) / 1e9, line);
      err.flush();
    }
  }
}
