package io.joinflow.cli;

import io.joinflow.activities.StepParts;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.activity.ManualActivityCompletionClient;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.ActivityCompletionException;
import io.temporal.client.WorkflowClient;
import io.temporal.common.CancellationToken;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.lang.reflect.Type;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker interceptor that runs an action once, in the activity's own thread, when the join of
 * one node reaches one point of one step: when the step starts, when it ends (its work done,
 * its result not yet reported to Temporal), or, for a waiting step, at its first heartbeat.
 * The step goes on when the action returns; an exception from the action ends the attempt
 * like any activity failure. A step that is a {@link StepParts part} of another activity
 * (validate, registerPeer and admit of {@code prepare}; persist and broadcast of
 * {@code finish}) starts when its part begins; only {@link When#START} applies to it. Only join workflows ({@code join/<cluster>/<node>}) are watched.
 * The crash matrix and the durability tests stop roles with it; {@code joinflow demo} has its own,
 * start-only {@link StepStartHook}, whose matching this shares.
 */
final class StepTrigger extends WorkerInterceptorBase {

  /** Where in the step the action runs. */
  enum When {
    /** Before the step does anything. */
    START,
    /** After the step did its work, before its result reaches Temporal. */
    END,
    /** At the step's first heartbeat (a wait still in progress), or at its end if it never heartbeats. */
    FIRST_HEARTBEAT_OR_END
  }

  /** What the action learns about the step it interrupts. */
  record Hit(String activity, int group, int attempt, When when, boolean heartbeat) {}

  /** The action; it may block (the step waits for it) and may throw (the attempt fails). */
  @FunctionalInterface
  interface Action {
    void run(Hit hit) throws Exception;
  }

  private final long nodeId;
  private final String activity;
  private final int group;
  private final When when;
  private final Action action;
  private final AtomicBoolean fired = new AtomicBoolean();

  /**
   * @param nodeId the joining node whose join is watched
   * @param activity the step's activity type, e.g. {@code addLearner}
   * @param group the group of a per-group step, or -1 for any group (the first one to get there)
   */
  StepTrigger(long nodeId, String activity, int group, When when, Action action) {
    this.nodeId = nodeId;
    this.activity = activity;
    this.group = group;
    this.when = when;
    this.action = action;
  }

  /** Whether the action ran. */
  boolean fired() {
    return fired.get();
  }

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new Inbound(next);
  }

  private final class Inbound extends ActivityInboundCallsInterceptorBase {
    private ActivityInfo info;
    private Watched watched;

    Inbound(ActivityInboundCallsInterceptor next) {
      super(next);
    }

    @Override
    public void init(ActivityExecutionContext context) {
      info = context.getInfo();
      if (when == When.FIRST_HEARTBEAT_OR_END && matchesInfo(info)) {
        watched = new Watched(context);
        super.init(watched);
      } else {
        super.init(context);
      }
    }

    @Override
    public ActivityOutput execute(ActivityInput input) {
      int inputGroup = StepStartHook.groupOf(input.getArguments());
      if (when == When.START && group < 0 && !matchesInfo(info) && StepStartHook.isJoinOf(info, nodeId)) {
        // The step may be a part of this activity (prepare, finish): it starts when the part begins.
        return StepParts.listening(part -> {
          if (part.equals(activity)) {
            fire(new Hit(activity, -1, info.getAttempt(), When.START, false));
          }
        }, () -> super.execute(input));
      }
      if (!matchesInfo(info) || (group >= 0 && inputGroup != group)) {
        return super.execute(input);
      }
      if (watched != null) {
        watched.group = inputGroup;
      }
      if (when == When.START) {
        fire(new Hit(activity, inputGroup, info.getAttempt(), When.START, false));
      }
      ActivityOutput output = super.execute(input);
      if (when == When.END || (when == When.FIRST_HEARTBEAT_OR_END)) {
        fire(new Hit(activity, inputGroup, info.getAttempt(), when, false));
      }
      return output;
    }
  }

  private boolean matchesInfo(ActivityInfo info) {
    return StepStartHook.isStepOf(info, nodeId, activity);
  }

  private void fire(Hit hit) {
    if (!fired.compareAndSet(false, true)) {
      return;
    }
    try {
      action.run(hit);
    } catch (RuntimeException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted at " + hit, e);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** The activity's context, firing the action at the first heartbeat. */
  private final class Watched implements ActivityExecutionContext {
    private final ActivityExecutionContext delegate;
    private volatile int group = -1;

    Watched(ActivityExecutionContext delegate) {
      this.delegate = delegate;
    }

    @Override
    public <V> void heartbeat(V details) throws ActivityCompletionException {
      delegate.heartbeat(details);
      if (StepTrigger.this.group < 0 || group == StepTrigger.this.group) {
        fire(new Hit(activity, group, delegate.getInfo().getAttempt(), When.FIRST_HEARTBEAT_OR_END, true));
      }
    }

    @Override
    public ActivityInfo getInfo() {
      return delegate.getInfo();
    }

    @Override
    public <V> Optional<V> getHeartbeatDetails(Class<V> type) {
      return delegate.getHeartbeatDetails(type);
    }

    @Override
    public <V> Optional<V> getHeartbeatDetails(Class<V> type, Type genericType) {
      return delegate.getHeartbeatDetails(type, genericType);
    }

    @Override
    public <V> Optional<V> getLastHeartbeatDetails(Class<V> type) {
      return delegate.getLastHeartbeatDetails(type);
    }

    @Override
    public <V> Optional<V> getLastHeartbeatDetails(Class<V> type, Type genericType) {
      return delegate.getLastHeartbeatDetails(type, genericType);
    }

    @Override
    public byte[] getTaskToken() {
      return delegate.getTaskToken();
    }

    @Override
    public CancellationToken<ActivityCanceledException> getCancellationToken() {
      return delegate.getCancellationToken();
    }

    @Override
    public void doNotCompleteOnReturn() {
      delegate.doNotCompleteOnReturn();
    }

    @Override
    public boolean isDoNotCompleteOnReturn() {
      return delegate.isDoNotCompleteOnReturn();
    }

    @Override
    public boolean isUseLocalManualCompletion() {
      return delegate.isUseLocalManualCompletion();
    }

    @Override
    public ManualActivityCompletionClient useLocalManualCompletion() {
      return delegate.useLocalManualCompletion();
    }

    @Override
    public com.uber.m3.tally.Scope getMetricsScope() {
      return delegate.getMetricsScope();
    }

    @Override
    public WorkflowClient getWorkflowClient() {
      return delegate.getWorkflowClient();
    }

    @Override
    public Object getInstance() {
      return delegate.getInstance();
    }
  }
}
