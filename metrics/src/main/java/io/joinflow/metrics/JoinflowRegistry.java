package io.joinflow.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Arrays;

/**
 * The one registry of a joinflow process, exported at {@code /metrics} in the Prometheus text
 * format. Metric names follow Prometheus conventions: every joinflow metric starts with
 * {@code joinflow_}, counters end in {@code _total}, durations are histograms in seconds
 * ({@code _seconds_bucket}, {@code _sum}, {@code _count}) with the buckets of {@link #BUCKETS},
 * so that quantiles can be aggregated across processes. Labels are bounded: phase, step,
 * outcome, group number, gRPC method and status, never a node address or a workflow id.
 *
 * <p>Each process makes its own registry in {@code main} and passes it by constructor; there is
 * no global registry (Micrometer's {@code Metrics.globalRegistry} is never used).
 */
public final class JoinflowRegistry {
  /** The prefix of every metric joinflow itself defines. */
  public static final String PREFIX = "joinflow_";

  /**
   * Histogram buckets of every joinflow duration: from a 5 ms gRPC call to a 10 min join, so
   * one set fits steps, whole joins and promotions (whose stabilization window alone is 2 s).
   */
  public static final Duration[] BUCKETS = Arrays.stream(new long[] {
      5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000})
      .mapToObj(Duration::ofMillis).toArray(Duration[]::new);

  private JoinflowRegistry() {}

  /** A new registry with joinflow's histogram buckets and the JVM's own metrics (memory, threads, CPU, uptime). */
  public static PrometheusMeterRegistry create() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config()
        // promtool lints these two of Micrometer's (an abbreviated unit, a "_count" gauge).
        .meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
            || id.getName().equals("system.cpu.count")))
        // The SDK's one gauge named like a histogram's part; promtool refuses it as it is.
        .meterFilter(new MeterFilter() {
          @Override
          public Meter.Id map(Meter.Id id) {
            return id.getName().equals("temporal_workflow_active_thread_count")
                ? id.withName("temporal_workflow_active_threads") : id;
          }
        })
        .meterFilter(withoutPlaceholderTags())
        .meterFilter(withHelp())
        .meterFilter(histograms());
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return registry;
  }

  /**
   * The Temporal SDK gives every scope all its tag keys, with {@code "none"} for the ones that
   * do not apply (activity_type, signal_name, ...); on joinflow's own metrics recorded through
   * that scope they say nothing, so they are dropped there (the SDK's {@code temporal_*}
   * metrics keep them).
   */
  static MeterFilter withoutPlaceholderTags() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        if (!id.getName().startsWith(PREFIX) || id.getTags().stream().noneMatch(t -> t.getValue().equals("none"))) {
          return id;
        }
        return id.replaceTags(id.getTags().stream().filter(t -> !t.getValue().equals("none")).toList());
      }
    };
  }

  /**
   * Metrics reported through a Tally scope (the Temporal SDK's own, and joinflow's run metrics
   * recorded in workflow code) carry no description; Prometheus' HELP line says where they come
   * from instead, so every metric has one.
   */
  static MeterFilter withHelp() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        if (id.getDescription() != null && !id.getDescription().isBlank()) {
          return id;
        }
        return new Meter.Id(id.getName(), Tags.of(id.getTags()), id.getBaseUnit(), help(id.getName()), id.getType());
      }
    };
  }

  /** The HELP text of a metric that was registered without one. */
  static String help(String name) {
    java.util.regex.Matcher run = java.util.regex.Pattern
        .compile("joinflow_(joins|promotions|leaves)_(started|finished)").matcher(name);
    if (run.matches()) {
      return run.group(1).substring(0, 1).toUpperCase() + run.group(1).substring(1) + " a worker of this process "
          + (run.group(2).equals("started") ? "started" : "finished, by outcome");
    }
    java.util.regex.Matcher duration = java.util.regex.Pattern.compile("joinflow_(join|promotion|leave)_duration")
        .matcher(name);
    if (duration.matches()) {
      return "How long a " + duration.group(1) + " took from its start to its result, by outcome (workflow time)";
    }
    if (name.startsWith("temporal_")) {
      return "Temporal SDK metric " + name + " (see the Temporal SDK metrics reference)";
    }
    return name;
  }

  /**
   * Every joinflow timer becomes a histogram with {@link #BUCKETS}, also the ones made through
   * the Temporal SDK's metrics scope (a workflow interceptor records join durations there).
   */
  static MeterFilter histograms() {
    double[] nanos = Arrays.stream(BUCKETS).mapToDouble(Duration::toNanos).toArray();
    return new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (id.getType() != Meter.Type.TIMER || !id.getName().startsWith(PREFIX)) {
          return config;
        }
        return DistributionStatisticConfig.builder()
            .percentilesHistogram(false)
            .serviceLevelObjectives(nanos)
            .build()
            .merge(config);
      }
    };
  }
}
