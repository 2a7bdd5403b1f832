package io.joinflow.gateway;

import io.joinflow.workflows.JoinPhase;
import io.joinflow.workflows.JoinProgress;
import io.joinflow.workflows.JoinSearchAttributes;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowStub;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The joins this gateway's Join calls are waiting for, by phase, as the gauge
 * {@code joinflow_joins_in_flight{phase}} (one series per running phase, 0 included, so an
 * alert can watch a phase that is empty now). A join's phase is its {@code JoinPhase} search
 * attribute, read from Temporal when scraped (at most every {@link #REFRESH_MILLIS} ms); a join
 * that two calls wait for counts once. What another gateway waits for is that gateway's series:
 * across gateways, sum them.
 */
// Not final: tests substitute how phases are read.
public class JoinsInFlight {
  private static final Logger LOG = LoggerFactory.getLogger(JoinsInFlight.class);
  /** The phases of a running join (the others end it). */
  static final List<String> RUNNING_PHASES = List.of(JoinPhase.VALIDATE, JoinPhase.REGISTER_PEER, JoinPhase.ADMIT,
      JoinPhase.LEARNERS, JoinPhase.PERSIST, JoinPhase.BROADCAST, JoinPhase.COMPENSATING);
  /** Scrapes closer together than this share one reading. */
  static final long REFRESH_MILLIS = 2_000;

  private final WorkflowClient client;
  private final LongSupplier clock;
  /** workflow id -> run id -> calls waiting for it. */
  private final Map<String, Run> waiting = new ConcurrentHashMap<>();
  private Map<String, Integer> byPhase = Map.of();
  private long readAt;
  private boolean everRead;

  private record Run(String runId, AtomicInteger calls) {}

  JoinsInFlight(WorkflowClient client) {
    this(client, System::currentTimeMillis);
  }

  JoinsInFlight(WorkflowClient client, LongSupplier clock) {
    this.client = client;
    this.clock = clock;
  }

  /** Registers {@code joinflow_joins_in_flight{phase}} on {@code registry}. */
  public void bindTo(MeterRegistry registry) {
    for (String phase : RUNNING_PHASES) {
      Gauge.builder("joinflow_joins_in_flight", this, j -> j.count(phase))
          .description("Joins this gateway's Join calls wait for, by the phase they are in")
          .tag("phase", phase).register(registry);
    }
  }

  void waiting(String workflowId, String runId) {
    waiting.compute(workflowId, (id, run) -> {
      if (run == null || !run.runId().equals(runId)) {
        return new Run(runId, new AtomicInteger(1));
      }
      run.calls().incrementAndGet();
      return run;
    });
  }

  void done(String workflowId, String runId) {
    waiting.computeIfPresent(workflowId, (id, run) ->
        run.runId().equals(runId) && run.calls().decrementAndGet() <= 0 ? null : run);
  }

  /** Joins waited for now. */
  int size() {
    return waiting.size();
  }

  synchronized int count(String phase) {
    long now = clock.getAsLong();
    if (!everRead || now - readAt >= REFRESH_MILLIS || now < readAt) {
      byPhase = read();
      readAt = now;
      everRead = true;
    }
    return byPhase.getOrDefault(phase, 0);
  }

  Map<String, Integer> read() {
    Map<String, Integer> counts = new HashMap<>();
    waiting.forEach((workflowId, run) -> phase(workflowId, run.runId())
        .ifPresent(p -> counts.merge(p, 1, Integer::sum)));
    return counts;
  }

  /**
   * The phase of a running join: its search attribute, or (a server that does not keep search
   * attributes in a run's description) its progress query.
   */
  private Optional<String> phase(String workflowId, String runId) {
    WorkflowStub stub = client.newUntypedWorkflowStub(workflowId, Optional.of(runId), Optional.empty());
    try {
      String phase = stub.describe().getTypedSearchAttributes().get(JoinSearchAttributes.PHASE);
      if (phase == null) {
        phase = stub.query("progress", JoinProgress.class).phase();
      }
      return Optional.ofNullable(phase);
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      LOG.debug("joins in flight: cannot read the phase of {}: {}", workflowId, e.toString());
      return Optional.empty();
    }
  }
}
