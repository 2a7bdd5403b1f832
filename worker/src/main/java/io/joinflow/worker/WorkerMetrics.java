package io.joinflow.worker;

import com.uber.m3.tally.Scope;
import io.joinflow.workflows.JoinResult;
import io.joinflow.workflows.LeaveResult;
import io.joinflow.workflows.PromoteResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.temporal.common.interceptors.WorkflowInboundCallsInterceptor;
import io.temporal.common.interceptors.WorkflowInboundCallsInterceptorBase;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Workflow;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a worker sees of joins, promotions and leaves, as metrics.
 *
 * <p><b>Runs</b> are counted where they run, once each, whichever gateway started them and
 * whether or not anyone still waits for them: {@code joinflow_joins_started_total},
 * {@code joinflow_joins_finished_total{outcome}} and {@code joinflow_join_duration_seconds{outcome}}
 * (likewise {@code joinflow_promotions_*}, {@code joinflow_promotion_duration_seconds},
 * {@code joinflow_leaves_*}, {@code joinflow_leave_duration_seconds}). Outcomes are
 * {@code succeeded}, {@code rejected} (refused before anything changed), {@code compensated}
 * (undone) and {@code failed} (the workflow itself failed or was cancelled). This part runs in
 * workflow code, so it records only through {@code Workflow.getMetricsScope()}, which drops
 * what a replay records again, and measures with workflow time; it carries that scope's tags
 * ({@code namespace}, {@code task_queue}, {@code workflow_type}).
 *
 * <p><b>Steps</b> are counted per activity attempt, outside workflow code:
 * {@code joinflow_step_duration_seconds{workflow, step, outcome}} (outcome {@code success} or
 * {@code failure}), {@code joinflow_step_retries_total{workflow, step}} (attempts after the
 * first) and {@code joinflow_steps_in_flight{workflow, step}}. {@code workflow} is
 * {@code join}, {@code promotion}, {@code leave}; {@code step} the activity type.
 */
public final class WorkerMetrics extends WorkerInterceptorBase {
  private final MeterRegistry registry;
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  public WorkerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** How a workflow type is named in metrics. */
  record Kind(String label, String plural, String singular) {
    static Kind of(String workflowType) {
      return switch (workflowType) {
        case "JoinWorkflow" -> new Kind("join", "joins", "join");
        case "PromoteWorkflow" -> new Kind("promotion", "promotions", "promotion");
        case "LeaveWorkflow" -> new Kind("leave", "leaves", "leave");
        default -> new Kind("other", "other_workflows", "other_workflow");
      };
    }
  }

  /** The outcome label of a run's result. */
  static String outcome(Object result) {
    if (result instanceof JoinResult r) {
      return r.success() ? "succeeded" : r.errorCode().isEmpty() ? "compensated" : "rejected";
    }
    if (result instanceof LeaveResult r) {
      return r.success() ? "succeeded" : r.errorCode() == null || r.errorCode().isEmpty() ? "failed" : "rejected";
    }
    if (result instanceof PromoteResult r) {
      return r.success() ? "succeeded" : "failed";
    }
    return "succeeded";
  }

  @Override
  public WorkflowInboundCallsInterceptor interceptWorkflow(WorkflowInboundCallsInterceptor next) {
    return new WorkflowInboundCallsInterceptorBase(next) {
      @Override
      public WorkflowOutput execute(WorkflowInput input) {
        Kind kind = Kind.of(Workflow.getInfo().getWorkflowType());
        Scope scope = Workflow.getMetricsScope();
        scope.counter("joinflow_" + kind.plural() + "_started").inc(1);
        WorkflowOutput output;
        try {
          output = super.execute(input);
        } catch (TemporalFailure e) {
          // Fails (or cancels) the run. Anything else fails only this workflow task, which
          // runs again: counting it would count one run many times.
          finished(scope, kind, "failed");
          throw e;
        }
        finished(scope, kind, outcome(output.getResult()));
        return output;
      }
    };
  }

  private static void finished(Scope scope, Kind kind, String outcome) {
    Scope tagged = scope.tagged(Map.of("outcome", outcome));
    tagged.counter("joinflow_" + kind.plural() + "_finished").inc(1);
    long millis = Workflow.currentTimeMillis() - Workflow.getInfo().getRunStartedTimestampMillis();
    tagged.timer("joinflow_" + kind.singular() + "_duration").record(com.uber.m3.util.Duration.ofMillis(millis));
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new ActivityInboundCallsInterceptorBase(next) {
      private ActivityInfo info;

      @Override
      public void init(ActivityExecutionContext context) {
        info = context.getInfo();
        super.init(context);
      }

      @Override
      public ActivityOutput execute(ActivityInput input) {
        String workflow = Kind.of(info.getWorkflowType()).label();
        String step = info.getActivityType();
        if (info.getAttempt() > 1) {
          Counter.builder("joinflow_step_retries").description("Attempts of a step after its first")
              .tag("workflow", workflow).tag("step", step).register(registry).increment();
        }
        AtomicInteger running = inFlight(workflow, step);
        running.incrementAndGet();
        long started = System.nanoTime();
        String outcome = "failure";
        try {
          ActivityOutput output = super.execute(input);
          outcome = "success";
          return output;
        } finally {
          running.decrementAndGet();
          Timer.builder("joinflow_step_duration").description("How long one attempt of a step took")
              .tag("workflow", workflow).tag("step", step).tag("outcome", outcome)
              .register(registry).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        }
      }
    };
  }

  private AtomicInteger inFlight(String workflow, String step) {
    return inFlight.computeIfAbsent(workflow + "/" + step, key -> {
      AtomicInteger n = new AtomicInteger();
      Gauge.builder("joinflow_steps_in_flight", n, AtomicInteger::get).description("Step attempts running now")
          .tag("workflow", workflow).tag("step", step).register(registry);
      return n;
    });
  }
}
