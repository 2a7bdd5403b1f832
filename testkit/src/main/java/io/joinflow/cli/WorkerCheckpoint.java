package io.joinflow.cli;

import io.joinflow.workflows.JoinActivities;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A point in a join where a {@link CrashableWorker} stops: the first worker to reach it holds
 * there, with its task open on the Temporal server, until the test lets it go on or kills the
 * worker. Later arrivals (the same step retried on another worker) pass.
 *
 * <p>Three kinds of point: before an activity runs, after it ran (its effect is in the cluster
 * but its result not yet reported), and inside the workflow task that schedules an activity.
 */
final class WorkerCheckpoint {
  /** Where in the task the worker stops. */
  enum Where { BEFORE_ACTIVITY, AFTER_ACTIVITY, SCHEDULING_ACTIVITY }

  /** Thrown in the held task when its worker is killed: the task ends without effect. */
  static final class WorkerKilled extends RuntimeException {
    private static final long serialVersionUID = 1L;

    WorkerKilled(String worker) {
      super(worker + " was killed here");
    }
  }

  private static final Duration HOLD_LIMIT = Duration.ofMinutes(3);

  private final Where where;
  private final String activityType;
  private final int groupId;
  private final AtomicBoolean taken = new AtomicBoolean();
  private final CountDownLatch reached = new CountDownLatch(1);
  private final CountDownLatch released = new CountDownLatch(1);
  private volatile String holder;
  private volatile String activityId;
  private volatile boolean killed;

  /**
   * @param groupId the group the activity must be for, or -1 for any (and for activities
   *     without a group)
   */
  private WorkerCheckpoint(Where where, String activityType, int groupId) {
    this.where = where;
    this.activityType = activityType;
    this.groupId = groupId;
  }

  static WorkerCheckpoint beforeActivity(String activityType) {
    return new WorkerCheckpoint(Where.BEFORE_ACTIVITY, activityType, -1);
  }

  static WorkerCheckpoint afterActivity(String activityType, int groupId) {
    return new WorkerCheckpoint(Where.AFTER_ACTIVITY, activityType, groupId);
  }

  static WorkerCheckpoint schedulingActivity(String activityType) {
    return new WorkerCheckpoint(Where.SCHEDULING_ACTIVITY, activityType, -1);
  }

  Where where() {
    return where;
  }

  /** True (once, for the first caller) when this task is the one to hold. */
  boolean take(Where at, String type, Object[] args, String worker, String id) {
    if (at != where || !type.equals(activityType) || !matchesGroup(args)) {
      return false;
    }
    if (!taken.compareAndSet(false, true)) {
      return false;
    }
    holder = worker;
    activityId = id;
    return true;
  }

  private boolean matchesGroup(Object[] args) {
    if (groupId < 0) {
      return true;
    }
    return args.length > 0 && args[0] instanceof JoinActivities.GroupInput g && g.groupId() == groupId;
  }

  /** Runs in the held task: signals the test and waits for its decision. */
  void hold() {
    reached.countDown();
    try {
      if (!released.await(HOLD_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("checkpoint " + this + " was never released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WorkerKilled(holder);
    }
    if (killed) {
      throw new WorkerKilled(holder);
    }
  }

  /**
   * Waits until a worker holds here.
   *
   * @return the identity of the worker holding
   */
  String awaitHolder(Duration timeout) throws InterruptedException {
    if (!reached.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("no worker reached " + this + " within " + timeout);
    }
    return holder;
  }

  String holder() {
    return holder;
  }

  /** The activity id of the held activity (activity checkpoints only). */
  String activityId() {
    return activityId;
  }

  /** Lets the held task go on. */
  void release() {
    released.countDown();
  }

  /** Ends the held task without effect: its worker is gone. */
  void releaseKilled() {
    killed = true;
    released.countDown();
  }

  @Override
  public String toString() {
    return where + " " + activityType + (groupId < 0 ? "" : " of group " + groupId);
  }
}
