package io.joinflow.workflows;

import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import java.time.Duration;

/**
 * The timeouts and retries of the join's steps. A step's schedule-to-close is added per call:
 * it ends shortly after the join's deadline (see {@link JoinWorkflowImpl}).
 */
final class JoinStepOptions {
  private JoinStepOptions() {}

  // Leader changes and restarts heal within seconds, so back off quickly but keep trying: the
  // overall deadline, not an attempt count, decides when a join gives up.
  static final RetryOptions CLUSTER_RETRY = RetryOptions.newBuilder()
      .setInitialInterval(Duration.ofMillis(200))
      .setBackoffCoefficient(2)
      .setMaximumInterval(Duration.ofSeconds(5))
      .setDoNotRetry(JoinFailures.NON_RETRYABLE)
      .build();

  // Steps that change the cluster heartbeat while they run: a worker that dies mid-step costs
  // the join this timeout before another worker runs the step again, not its start-to-close.
  private static final Duration STEP_HEARTBEAT = Duration.ofSeconds(10);

  // This workflow never sends a cancel command (RequestCancelActivityTask, CancelTimer): the
  // in-memory server, the embedded default, wedges a workflow whose task cancels an activity or
  // timer that completed while the task ran. So pure reads and waits are abandoned (the
  // activity ends by itself: its heartbeats fail once the workflow is closed), and steps that
  // change the cluster are never cancelled at all: they run in a detached scope, and a cancelled
  // join stops between steps. That is also what the saga needs: an addLearner still in flight
  // must land before the removeLearner that undoes it, not after.
  static final ActivityOptions VALIDATE = ActivityOptions.newBuilder()
      .setStartToCloseTimeout(Duration.ofSeconds(10))
      .setRetryOptions(CLUSTER_RETRY)
      .setCancellationType(ActivityCancellationType.ABANDON)
      .build();
  static final ActivityOptions AWAIT_LEARNER = ActivityOptions.newBuilder()
      .setStartToCloseTimeout(Duration.ofMinutes(3))
      .setHeartbeatTimeout(Duration.ofSeconds(10))
      .setRetryOptions(CLUSTER_RETRY)
      .setCancellationType(ActivityCancellationType.ABANDON)
      .build();
  static final ActivityOptions REGISTER_PEER = changing(Duration.ofSeconds(10));
  static final ActivityOptions ADMIT = changing(Duration.ofSeconds(30));
  static final ActivityOptions ADD_LEARNER = changing(Duration.ofSeconds(45));
  static final ActivityOptions PERSIST = changing(Duration.ofSeconds(30));
  static final ActivityOptions BROADCAST = changing(Duration.ofSeconds(60));
  // Steps version 3: validate + registerPeer + admit, and persist + broadcast, each one call.
  static final ActivityOptions PREPARE = changing(Duration.ofSeconds(40));
  static final ActivityOptions FINISH = changing(Duration.ofSeconds(90));

  // Compensation keeps retrying far past the join's deadline (an orphan learner is worse than a
  // slow failure) but not forever, so an unreachable cluster still ends the workflow.
  static final ActivityOptions REMOVE_LEARNER = compensating(Duration.ofSeconds(45));
  static final ActivityOptions EVICT = compensating(Duration.ofSeconds(30));
  static final ActivityOptions COMPENSATING_BROADCAST = compensating(Duration.ofSeconds(60));

  private static ActivityOptions changing(Duration startToClose) {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(startToClose)
        .setHeartbeatTimeout(STEP_HEARTBEAT)
        .setRetryOptions(CLUSTER_RETRY)
        .build();
  }

  private static ActivityOptions compensating(Duration startToClose) {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(startToClose)
        .setScheduleToCloseTimeout(Duration.ofMinutes(10))
        .setHeartbeatTimeout(STEP_HEARTBEAT)
        .setRetryOptions(CLUSTER_RETRY)
        .build();
  }
}
