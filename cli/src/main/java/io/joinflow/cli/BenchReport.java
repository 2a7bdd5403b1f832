package io.joinflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.joinflow.node.raft.RaftSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What one benchmark run measured: per point and mode the latency statistics, the ratios between
 * the modes, and the targets, rendered as a table and as JSON. Ratios compare medians
 * measured on the same cluster in the same run, so they hold on a noisy machine where the
 * absolute numbers drift.
 */
record BenchReport(Machine machine, Plan plan, List<PointResult> points, List<Target> targets) {

  /** The machine the numbers were taken on. */
  record Machine(int cores, String os, String java, long maxHeapMb) {
    static Machine current() {
      return new Machine(Runtime.getRuntime().availableProcessors(),
          System.getProperty("os.name") + " " + System.getProperty("os.arch"),
          System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
          Runtime.getRuntime().maxMemory() >> 20);
    }
  }

  /**
   * What was asked for.
   *
   * @param jvmWarmup unmeasured repetitions of a one-join, 8-group point before the first point
   * @param fanOut learner additions one workflow join makes at once (the direct baseline has no bound)
   * @param voters voters per group of the clusters the nodes join
   * @param promote whether joins are measured until their node votes in every group
   * @param stabilizationMs the promotions' stabilization window (with {@code promote})
   */
  record Plan(List<Integer> groups, List<Integer> concurrent, int concurrentGroups, int reps, int warmup,
              int jvmWarmup, int fanOut, boolean baselines, int voters, boolean promote, long stabilizationMs,
              boolean tls) {
    Plan(List<Integer> groups, List<Integer> concurrent, int concurrentGroups, int reps, int warmup, int jvmWarmup,
         int fanOut, boolean baselines) {
      this(groups, concurrent, concurrentGroups, reps, warmup, jvmWarmup, fanOut, baselines, 1, false, 0, true);
    }
  }

  /**
   * One mode at one point.
   *
   * @param batchMs per repetition in which every join succeeded: from the common start to the
   *     end of the last join (for a single join, that join's time)
   * @param joinMs every successful join, from its own start to its end
   * @param joinAndPromoteMs with {@code --promote}, every successful join from its own start
   *     until its node votes in every group (empty otherwise)
   * @param failures one line per failed join or repetition
   * @param stepsMs workflow only: per activity type, the median wall time from its first start
   *     to its last end, read from the joins' histories
   * @param historyMs workflow only: the workflow's duration as its history records it
   * @param callsMs the per-group calls ({@code addLearner}, {@code awaitCaughtUp}) one by one:
   *     the baselines time each call; the workflow's come from its activities' schedule-to-close
   *     times, so they include Temporal's dispatch
   * @param cpuBusy median over the repetitions of the share of all cores the process kept busy
   *     while the joins ran (0..1, NaN when unknown)
   * @param maxHistoryEvents workflow only: the longest join history, in events (NaN otherwise)
   */
  record ModeResult(LatencyStats batchMs, LatencyStats joinMs, LatencyStats joinAndPromoteMs, List<String> failures,
                    Map<String, Double> stepsMs,
                    LatencyStats historyMs, Map<String, LatencyStats> callsMs, double cpuBusy,
                    double maxHistoryEvents, Map<String, Double> promoteStepsMs, LatencyStats promoteHistoryMs) {}

  /**
   * One point: its clusters' Raft settings, the mode results, and anything that went wrong
   * around the measured joins ({@code problems}: failed warm-up joins and cleanup between modes;
   * {@code error}: the point could not run to its end), with the machine's one-minute load
   * average before and after it.
   */
  record PointResult(BenchPoint point, RaftSettings raft, Map<BenchMode, ModeResult> modes, List<String> problems,
                     String error, double loadBefore, double loadAfter) {
    double median(BenchMode mode) {
      ModeResult r = modes.get(mode);
      return r == null ? Double.NaN : r.batchMs().median();
    }

    /** Median of {@code a} over median of {@code b}; NaN when either was not measured. */
    double ratio(BenchMode a, BenchMode b) {
      return median(a) / median(b);
    }

    boolean succeeded() {
      return error == null && modes.values().stream().allMatch(m -> m.failures().isEmpty());
    }
  }

  /** One of the targets: {@code value} must not exceed {@code limit}. */
  record Target(String name, double value, double limit, String detail) {
    String status() {
      if (Double.isNaN(value)) {
        return "not measured";
      }
      return value <= limit ? "met" : "not met";
    }
  }

  static BenchReport of(Machine machine, Plan plan, List<PointResult> points) {
    return new BenchReport(machine, plan, List.copyOf(points), targets(points));
  }

  boolean allJoinsSucceeded() {
    return points.stream().allMatch(PointResult::succeeded);
  }

  /**
   * The targets: a single join within 1.5x of direct at 8 and at 64 groups; a join into
   * 64 groups within 4x of one into 8; 16 simultaneous joins within 3x of one join (the single
   * join of the concurrency series, or else the groups series' point with as many groups).
   */
  static List<Target> targets(List<PointResult> points) {
    List<Target> out = new ArrayList<>();
    for (int groups : new int[] {8, 64}) {
      PointResult p = find(points, BenchPoint.GROUPS, groups, 1);
      out.add(ratioTarget("single join at " + groups + " groups within 1.5x direct", 1.5,
          p, BenchMode.WORKFLOW, "workflow", p, BenchMode.DIRECT, "direct"));
    }
    PointResult g8 = find(points, BenchPoint.GROUPS, 8, 1);
    PointResult g64 = find(points, BenchPoint.GROUPS, 64, 1);
    out.add(ratioTarget("join into 64 groups within 4x the join into 8", 4,
        g64, BenchMode.WORKFLOW, "64 groups", g8, BenchMode.WORKFLOW, "8 groups"));
    PointResult c16 = points.stream().filter(p -> p.point().series().equals(BenchPoint.CONCURRENT)
        && p.point().concurrent() == 16).findFirst().orElse(null);
    PointResult one = null;
    if (c16 != null) {
      one = find(points, BenchPoint.CONCURRENT, c16.point().groups(), 1);
      if (one == null) {
        one = find(points, BenchPoint.GROUPS, c16.point().groups(), 1);
      }
    }
    out.add(ratioTarget("16 simultaneous joins within 3x one join", 3,
        c16, BenchMode.WORKFLOW, "16 at once", one, BenchMode.WORKFLOW, "one"));
    return out;
  }

  private static PointResult find(List<PointResult> points, String series, int groups, int concurrent) {
    return points.stream().filter(p -> p.point().series().equals(series) && p.point().groups() == groups
        && p.point().concurrent() == concurrent).findFirst().orElse(null);
  }

  private static Target ratioTarget(String name, double limit, PointResult a, BenchMode modeA, String labelA,
                                    PointResult b, BenchMode modeB, String labelB) {
    double numerator = a == null ? Double.NaN : a.median(modeA);
    double denominator = b == null ? Double.NaN : b.median(modeB);
    double value = numerator / denominator;
    String detail = Double.isNaN(value)
        ? "needs " + labelA + " and " + labelB + " measured"
        : String.format("%s %.0f ms / %s %.0f ms = %.2fx (limit %.1fx)", labelA, numerator, labelB, denominator,
            value, limit);
    return new Target(name, value, limit, detail);
  }

  /** The human-readable summary: times, ratios, where the workflow's time goes, targets. */
  String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("join latency in ms, median / p95 / max over %d repetition%s"
        + " (concurrent points: until all joins ended)%s; %d voter%s per group; %s; LOAD: load average when the"
        + " point began%n",
        plan.reps(), plan.reps() == 1 ? "" : "s", plan.promote()
            ? "; +p: until the node votes in every group, " + plan.stabilizationMs() + " ms stabilization window"
            : "", plan.voters(), plan.voters() == 1 ? "" : "s", plan.tls() ? "mutual TLS" : "plaintext (--insecure)"));
    b.append(String.format("%-18s %-21s %-21s %-21s %9s %9s %5s%n", "POINT", "WORKFLOW", "DIRECT", "SEQUENTIAL",
        "WF/DIRECT", "WF/SEQ", "LOAD"));
    for (PointResult p : points) {
      if (p.error() != null) {
        b.append(String.format("%-18s failed: %s%n", p.point().label(), p.error()));
        continue;
      }
      b.append(String.format("%-18s %-21s %-21s %-21s %9s %9s %5s%n", p.point().label(), stats(p, BenchMode.WORKFLOW),
          stats(p, BenchMode.DIRECT), stats(p, BenchMode.SEQUENTIAL),
          ratio(p.ratio(BenchMode.WORKFLOW, BenchMode.DIRECT)),
          ratio(p.ratio(BenchMode.WORKFLOW, BenchMode.SEQUENTIAL)),
          Double.isNaN(p.loadBefore()) ? "-" : String.format("%.1f", p.loadBefore())));
    }
    List<PointResult> concurrent = points.stream()
        .filter(p -> p.error() == null && p.point().concurrent() > 1).toList();
    if (!concurrent.isEmpty()) {
      b.append(String.format("%neach simultaneous join's own latency in ms, median / p95 / max%n"));
      b.append(String.format("%-18s %-21s %-21s %-21s%n", "POINT", "WORKFLOW", "DIRECT", "SEQUENTIAL"));
      for (PointResult p : concurrent) {
        b.append(String.format("%-18s %-21s %-21s %-21s%n", p.point().label(), joinStats(p, BenchMode.WORKFLOW),
            joinStats(p, BenchMode.DIRECT), joinStats(p, BenchMode.SEQUENTIAL)));
      }
    }
    List<PointResult> withSteps = points.stream().filter(p -> p.modes().containsKey(BenchMode.WORKFLOW)
        && !p.modes().get(BenchMode.WORKFLOW).stepsMs().isEmpty()).toList();
    if (!withSteps.isEmpty()) {
      b.append(String.format("%nworkflow steps, median wall ms per activity type (from the join histories)%n"));
      for (PointResult p : withSteps) {
        ModeResult w = p.modes().get(BenchMode.WORKFLOW);
        String steps = w.stepsMs().entrySet().stream()
            .map(e -> String.format("%s %.0f", e.getKey(), e.getValue())).collect(Collectors.joining(", "));
        b.append(String.format("%-18s %s; history %.0f ms, up to %.0f events%n", p.point().label(), steps,
            w.historyMs().median(), w.maxHistoryEvents()));
      }
    }
    List<PointResult> withCalls = points.stream().filter(p -> p.error() == null
        && p.modes().values().stream().anyMatch(m -> !m.callsMs().isEmpty())).toList();
    if (!withCalls.isEmpty()) {
      b.append(String.format("%nper-group calls, median ms: addLearner (host division + CAS) / awaitCaughtUp;"
          + " CPU: share of all cores busy during the joins%n"));
      b.append(String.format("%-18s %-21s %-21s %-21s%n", "POINT", "WORKFLOW", "DIRECT", "SEQUENTIAL"));
      for (PointResult p : withCalls) {
        b.append(String.format("%-18s %-21s %-21s %-21s%n", p.point().label(), calls(p, BenchMode.WORKFLOW),
            calls(p, BenchMode.DIRECT), calls(p, BenchMode.SEQUENTIAL)));
      }
    }
    b.append(String.format("%ntargets%n"));
    for (Target t : targets) {
      b.append(String.format("  %-14s %s: %s%n", "[" + t.status() + "]", t.name(), t.detail()));
    }
    List<String> trouble = new ArrayList<>();
    for (PointResult p : points) {
      p.modes().forEach((mode, r) -> r.failures().forEach(f -> trouble.add(p.point().label() + " "
          + mode.label() + ": " + f)));
      p.problems().forEach(f -> trouble.add(p.point().label() + ": " + f));
    }
    if (!trouble.isEmpty()) {
      b.append(String.format("%nfailures, failed warm-ups and cleanup problems%n"));
      trouble.forEach(t -> b.append("  ").append(t).append(System.lineSeparator()));
    }
    return b.toString();
  }

  private static String stats(PointResult p, BenchMode mode) {
    ModeResult r = p.modes().get(mode);
    return r == null ? "-" : r.batchMs().render();
  }

  private static String calls(PointResult p, BenchMode mode) {
    ModeResult r = p.modes().get(mode);
    if (r == null || r.callsMs().isEmpty()) {
      return "-";
    }
    return String.format("%s / %s%s", median(r.callsMs().get(BenchJoins.ADD_LEARNER)),
        median(r.callsMs().get(BenchJoins.AWAIT_CAUGHT_UP)),
        Double.isNaN(r.cpuBusy()) ? "" : String.format(" %.0f%%", 100 * r.cpuBusy()));
  }

  private static String median(LatencyStats s) {
    return s == null || !s.measured() ? "-" : String.format("%.0f", s.median());
  }

  private static String joinStats(PointResult p, BenchMode mode) {
    ModeResult r = p.modes().get(mode);
    return r == null ? "-" : r.joinMs().render();
  }

  private static String ratio(double r) {
    return Double.isNaN(r) ? "-" : String.format("%.2fx", r);
  }

  ObjectNode json(ObjectMapper mapper) {
    ObjectNode o = mapper.createObjectNode();
    ObjectNode m = o.putObject("machine");
    m.put("cores", machine.cores()).put("os", machine.os()).put("java", machine.java())
        .put("max_heap_mb", machine.maxHeapMb());
    ObjectNode pl = o.putObject("plan");
    plan.groups().forEach(pl.putArray("groups")::add);
    plan.concurrent().forEach(pl.putArray("concurrent")::add);
    pl.put("concurrent_groups", plan.concurrentGroups()).put("reps", plan.reps()).put("warmup", plan.warmup())
        .put("jvm_warmup", plan.jvmWarmup()).put("fan_out", plan.fanOut()).put("baselines", plan.baselines())
        .put("voters", plan.voters()).put("promote", plan.promote()).put("stabilization_ms", plan.stabilizationMs())
        .put("tls", plan.tls());
    o.put("all_joins_succeeded", allJoinsSucceeded());
    ArrayNode ps = o.putArray("points");
    for (PointResult p : points) {
      ObjectNode pn = ps.addObject();
      pn.put("label", p.point().label()).put("series", p.point().series()).put("groups", p.point().groups())
          .put("concurrent", p.point().concurrent()).put("voters", p.point().voters())
          .put("promote", p.point().promote()).put("tls", plan.tls());
      pn.putArray("election_timeout_ms").add(p.raft().electionMin().toMillis()).add(p.raft().electionMax().toMillis());
      if (p.error() != null) {
        pn.put("error", p.error());
      }
      number(pn, "load_average_before", p.loadBefore());
      number(pn, "load_average_after", p.loadAfter());
      ObjectNode modes = pn.putObject("modes");
      p.modes().forEach((mode, r) -> {
        ObjectNode mn = modes.putObject(mode.label());
        stats(mn.putObject("batch_ms"), r.batchMs());
        stats(mn.putObject("join_ms"), r.joinMs());
        if (p.point().promote()) {
          stats(mn.putObject("join_and_promote_ms"), r.joinAndPromoteMs());
        }
        r.failures().forEach(mn.putArray("failures")::add);
        number(mn, "cpu_busy", r.cpuBusy());
        ObjectNode calls = mn.putObject("per_group_call_ms");
        r.callsMs().forEach((call, st) -> stats(calls.putObject(call), st));
        if (!r.stepsMs().isEmpty()) {
          ObjectNode steps = mn.putObject("steps_median_ms");
          r.stepsMs().forEach(steps::put);
          stats(mn.putObject("history_ms"), r.historyMs());
          number(mn, "max_history_events", r.maxHistoryEvents());
        }
        if (!r.promoteStepsMs().isEmpty()) {
          ObjectNode steps = mn.putObject("promote_steps_median_ms");
          r.promoteStepsMs().forEach(steps::put);
          stats(mn.putObject("promote_history_ms"), r.promoteHistoryMs());
        }
      });
      ObjectNode ratios = pn.putObject("ratios");
      number(ratios, "workflow_direct", p.ratio(BenchMode.WORKFLOW, BenchMode.DIRECT));
      number(ratios, "workflow_sequential", p.ratio(BenchMode.WORKFLOW, BenchMode.SEQUENTIAL));
      number(ratios, "sequential_direct", p.ratio(BenchMode.SEQUENTIAL, BenchMode.DIRECT));
      p.problems().forEach(pn.putArray("problems")::add);
    }
    ArrayNode ts = o.putArray("targets");
    for (Target t : targets) {
      ObjectNode tn = ts.addObject();
      tn.put("name", t.name()).put("status", t.status());
      number(tn, "value", t.value());
      tn.put("limit", t.limit()).put("detail", t.detail());
    }
    return o;
  }

  private static void stats(ObjectNode o, LatencyStats s) {
    o.put("count", s.count());
    number(o, "median", s.median());
    number(o, "p95", s.p95());
    number(o, "max", s.max());
    s.samples().forEach(o.putArray("samples")::add);
  }

  /** JSON has no NaN: a value that was not measured is null. */
  private static void number(ObjectNode o, String field, double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      o.putNull(field);
    } else {
      o.put(field, Math.round(value * 1000) / 1000.0);
    }
  }

  /** Per activity type, the median of its wall times over the timelines, in first-seen order. */
  static Map<String, Double> medianSteps(List<JoinTimeline> timelines) {
    Map<String, List<Double>> byType = new LinkedHashMap<>();
    for (JoinTimeline t : timelines) {
      for (JoinTimeline.Span s : t.spans()) {
        byType.computeIfAbsent(s.activity(), k -> new ArrayList<>()).add((double) s.wallMs());
      }
    }
    Map<String, Double> out = new LinkedHashMap<>();
    byType.forEach((k, v) -> out.put(k, LatencyStats.of(v).median()));
    return out;
  }
}
