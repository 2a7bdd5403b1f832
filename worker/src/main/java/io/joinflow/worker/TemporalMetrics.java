package io.joinflow.worker;

import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import io.micrometer.core.instrument.MeterRegistry;
import io.temporal.common.reporter.MicrometerClientStatsReporter;

/**
 * The Temporal SDK's metrics (client requests, worker polls and task slots, schedule-to-start
 * latency, workflow and activity results: {@code temporal_*}) reported into a process's
 * Micrometer registry, as the Temporal Java samples wire it: a Tally root scope with
 * {@link MicrometerClientStatsReporter}, set on {@code WorkflowServiceStubsOptions}. Tally
 * buffers counters and reports them every {@link #REPORT_EVERY_SECONDS} seconds; the scope
 * owns a reporting thread, so close it with the process.
 */
public final class TemporalMetrics {
  /** Counters reach the registry this often; well under any scrape interval. */
  static final int REPORT_EVERY_SECONDS = 1;

  private TemporalMetrics() {}

  /** A root scope that reports into {@code registry}; {@code close()} it to stop its reporter thread. */
  public static Scope scope(MeterRegistry registry) {
    return new RootScopeBuilder()
        .reporter(new MicrometerClientStatsReporter(registry))
        .reportEvery(com.uber.m3.util.Duration.ofSeconds(REPORT_EVERY_SECONDS));
  }

  /** Reports what is buffered and stops the scope's reporter thread. */
  public static void close(Scope scope) {
    try {
      scope.close();
    } catch (com.uber.m3.tally.ScopeCloseException e) {
      // Stopping anyway: at worst the last second's counters are not reported.
    }
  }
}
