package io.joinflow.worker;

import io.joinflow.workflows.JoinActivities;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.JoinWorkflow;
import io.joinflow.workflows.JoinWorkflowImpl;
import io.joinflow.workflows.LeaveWorkflowImpl;
import io.joinflow.workflows.MembershipActivities;
import io.joinflow.workflows.PromoteWorkflowImpl;
import io.temporal.client.WorkflowClient;
import io.temporal.common.interceptors.WorkerInterceptor;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs join, promotion and leave workflows and their activities on
 * {@link JoinWorkflow#TASK_QUEUE}. Promotion and leave use both activity interfaces.
 */
public final class JoinWorker implements AutoCloseable {
  /** Activity task pollers: as many as the additions one join makes at once, so they all start at once. */
  static final int ACTIVITY_POLLERS = JoinOptions.DEFAULT_FAN_OUT;

  private final WorkerFactory factory;

  /**
   * @param restartable true for a worker that may stop while joins run (a separate process):
   *     sticky execution is off, because the embedded server never times out a sticky queue
   *     and a stopped worker would strand its workflows (TEMPORAL.md)
   */
  public JoinWorker(WorkflowClient client, JoinActivities activities, MembershipActivities membership,
                    boolean restartable) {
    this(client, activities, membership, restartable, List.of());
  }

  /**
   * @param interceptors see every workflow and activity this worker runs (tracing, metrics,
   *     fault injection); an {@link ActivityLogInterceptor} sees each activity around all of
   *     them, so a failure one of them causes is logged like any other
   */
  public JoinWorker(WorkflowClient client, JoinActivities activities, MembershipActivities membership,
                    boolean restartable, List<WorkerInterceptor> interceptors) {
    List<WorkerInterceptor> all = new java.util.ArrayList<>(interceptors);
    // The SDK wraps each interceptor around the ones before it: the last one is outermost. The
    // guard ends retries past the schedule-to-close (see ScheduleToCloseGuard); the log
    // interceptor, outside it, logs the failure an attempt really ended with.
    all.add(new ScheduleToCloseGuard());
    all.add(new ActivityLogInterceptor());
    this.factory = WorkerFactory.newInstance(client, WorkerFactoryOptions.newBuilder()
        .setWorkerInterceptors(all.toArray(WorkerInterceptor[]::new))
        .build());
    WorkerOptions.Builder options = WorkerOptions.newBuilder()
        // Replays on a busy 2-core machine can exceed the 1 s default (TEMPORAL.md).
        .setDefaultDeadlockDetectionTimeout(5_000)
        // Join activities mostly wait on the cluster (a learner catching up, a change queued
        // behind its group's running change), so slots are cheap; 16 simultaneous joins into 8
        // groups run about 150 at once, and a full worker delays every join's next step.
        .setMaxConcurrentActivityExecutionSize(256)
        // A join schedules up to its fan-out (16) of addLearner in one workflow task. With the
        // SDK's 5 pollers the others waited for a poll to come back (9 adds started over 80 ms);
        // with 16 a join into 8 groups on 3 voters took 676 ms against 795 ms (medians of 12,
        // docs/benchmarks.md, eighth run).
        .setMaxConcurrentActivityTaskPollers(ACTIVITY_POLLERS);
    if (restartable) {
      options.setStickyQueueScheduleToStartTimeout(Duration.ZERO);
    }
    Worker worker = factory.newWorker(JoinWorkflow.TASK_QUEUE, options.build());
    worker.registerWorkflowImplementationTypes(JoinWorkflowImpl.class, PromoteWorkflowImpl.class,
        LeaveWorkflowImpl.class);
    worker.registerActivitiesImplementations(activities, membership);
  }

  public JoinWorker start() {
    factory.start();
    return this;
  }

  /**
   * Stops at once, without draining: polls end and running workflow and activity tasks are
   * interrupted. A task that can still reach the server reports its failure and is retried at
   * once; one that cannot (the worker lost its connection, as in a crash) times out on the
   * server (an activity after its heartbeat or start-to-close timeout, a workflow task after
   * 10 s) and runs again on another worker. While joins run, only a restartable worker may
   * stop like this.
   */
  public void closeNow() {
    factory.shutdownNow();
  }

  @Override
  public void close() {
    factory.shutdown();
    try {
      factory.awaitTermination(10, TimeUnit.SECONDS);
    } catch (IllegalStateException e) {
      // never started
    }
    factory.shutdownNow();
  }
}
