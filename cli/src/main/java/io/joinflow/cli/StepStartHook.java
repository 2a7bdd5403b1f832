package io.joinflow.cli;

import io.joinflow.activities.StepParts;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker interceptor that runs an action once, in the activity's own thread, when the join of
 * one node starts one step (its first attempt that gets there; for a per-group step, the first
 * group; for a step that is a {@link StepParts part} of another activity, when the part begins). The step goes on when the action returns. This is how {@code joinflow demo
 * --crash-leader-during STEP} kills group 0's leader at a chosen step; production code has no
 * other hook into a running join.
 */
final class StepStartHook extends WorkerInterceptorBase {

  /** What the action learns about the step it interrupts. */
  record Hit(String activity, int group, int attempt) {}

  /** The action; it may block (the step waits for it). */
  @FunctionalInterface
  interface Action {
    void run(Hit hit) throws Exception;
  }

  private final long nodeId;
  private final String activity;
  private final Action action;
  private final AtomicBoolean fired = new AtomicBoolean();

  StepStartHook(long nodeId, String activity, Action action) {
    this.nodeId = nodeId;
    this.activity = activity;
    this.action = action;
  }

  /** Whether an activity is step {@code activity} of node {@code nodeId}'s join ({@code join/<cluster>/<node>}). */
  static boolean isStepOf(ActivityInfo info, long nodeId, String activity) {
    return info.getActivityType().equals(activity) && isJoinOf(info, nodeId);
  }

  /** Whether an activity belongs to node {@code nodeId}'s join ({@code join/<cluster>/<node>}). */
  static boolean isJoinOf(ActivityInfo info, long nodeId) {
    String wf = info.getWorkflowId();
    return wf != null && wf.startsWith("join/") && wf.endsWith("/" + Long.toUnsignedString(nodeId));
  }

  /** The group of a per-group step's input, or -1. */
  static int groupOf(Object[] arguments) {
    return arguments.length > 0 && arguments[0] instanceof GroupInput g ? g.groupId() : -1;
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
        if (isStepOf(info, nodeId, activity)) {
          fire(groupOf(input.getArguments()));
        }
        if (!isJoinOf(info, nodeId)) {
          return super.execute(input);
        }
        // The step may be a part of this activity (prepare, finish).
        return StepParts.listening(part -> {
          if (part.equals(activity)) {
            fire(-1);
          }
        }, () -> super.execute(input));
      }

      private void fire(int group) {
        if (!fired.compareAndSet(false, true)) {
          return;
        }
        try {
          action.run(new Hit(activity, group, info.getAttempt()));
        } catch (RuntimeException e) {
          throw e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted at " + activity, e);
        } catch (Exception e) {
          throw new IllegalStateException(e.getMessage(), e);
        }
      }
    };
  }
}
