package io.joinflow.workflows;

import io.joinflow.workflows.JoinActivities.AdmitInput;
import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.BroadcastResult;
import io.joinflow.workflows.JoinActivities.EvictInput;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.joinflow.workflows.JoinActivities.PeerInfo;
import io.joinflow.workflows.JoinActivities.PersistInput;
import io.joinflow.workflows.JoinActivities.RegisterInput;
import io.joinflow.workflows.JoinActivities.ValidateInput;
import io.joinflow.workflows.JoinActivities.ValidateResult;
import io.joinflow.workflows.JoinProgress.GroupProgress;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Functions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Saga;
import io.temporal.workflow.TimerOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowSemaphore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;

/**
 * The join workflow: validate, registerPeer, admit, then addLearner + awaitLearner per group
 * (bounded fan-out), persist, broadcast; compensation in reverse order when a step fails for
 * good or the deadline passes.
 *
 * <p>Every instance field is workflow state: it is rebuilt by replay and read by the
 * {@code progress} query. Nothing here may read the wall clock, draw random numbers or do I/O.
 * Any change to the sequence of commands must branch on {@link #STEPS_CHANGE_ID}; the history
 * fixtures under {@code src/test/resources/histories} catch a change that forgets to.
 */
public class JoinWorkflowImpl implements JoinWorkflow {

  /** The {@code getVersion} change id guarding the order and shape of the steps. */
  public static final String STEPS_CHANGE_ID = "join-steps";
  /**
   * The newest version of the steps.
   * <ol>
   *   <li>A group chain holds its fan-out slot through awaitLearner, and a group's removal is
   *       registered for compensation when its chain starts.
   *   <li>The slot is released once addLearner returns, so the bound covers the configuration
   *       changes, and waiting for the learners (mostly for the leader's next heartbeat) no
   *       longer holds back the next groups. Every group's removal is registered before the
   *       first chain starts: a join run again after its first run was lost (the embedded
   *       server is not durable) must also undo learners that run added in groups this run
   *       never reached. Removal is state-based, so it costs nothing where there is no learner.
   * </ol>
   */
  public static final int STEPS_VERSION = 2;
  /** The first version with the fan-out bound on addLearner only and every removal registered up front. */
  static final int ADD_ONLY_SLOTS_AND_FULL_UNDO = 2;

  private static final Logger log = Workflow.getLogger(JoinWorkflowImpl.class);

  // Leader changes and restarts heal within seconds, so back off quickly but keep trying: the
  // overall deadline, not an attempt count, decides when a join gives up.
  private static final RetryOptions CLUSTER_RETRY = RetryOptions.newBuilder()
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

  // Compensation keeps retrying far past the join's deadline (an orphan learner is worse than a
  // slow failure) but not forever, so an unreachable cluster still ends the workflow.
  static final ActivityOptions REMOVE_LEARNER = compensating(Duration.ofSeconds(45));
  static final ActivityOptions EVICT = compensating(Duration.ofSeconds(30));
  static final ActivityOptions COMPENSATING_BROADCAST = compensating(Duration.ofSeconds(60));

  private static final int MAX_LISTED_GROUPS = 12;
  /** The shortest schedule-to-close a step gets, even when the deadline is (almost) past. */
  private static final long MIN_STEP_MILLIS = 1_000;
  /** How long past the deadline a step in flight may still retry before compensation starts. */
  private static final long DEADLINE_GRACE_MILLIS = 5_000;

  private final Saga saga = new Saga(new Saga.Options.Builder()
      .setParallelCompensation(false)
      // undo() already records a failed compensation and carries on (evicting still helps when
      // a removeLearner gave up); anything else thrown here is a bug and must not be swallowed.
      .setContinueWithError(false)
      .build());
  private final Map<Integer, GroupProgress> groups = new TreeMap<>();
  private final List<Promise<Void>> groupChains = new ArrayList<>();
  private final List<String> compensationFailures = new ArrayList<>();

  private JoinInput input;
  private JoinOptions options = JoinOptions.defaults();
  private String workflowId = "";
  private long nodeId;
  private String phase = JoinPhase.VALIDATE;
  private long startedAtMillis;
  private long updatedAtMillis;
  private String outcome = "";
  private String failureReason = "";
  private boolean groupFailed;
  private ClusterSnapshot lastKnown = ClusterSnapshot.empty();
  private Promise<Void> deadline;
  private Promise<JoinResult> steps;
  private int stepsVersion;

  @Override
  public JoinResult join(JoinInput input) {
    stepsVersion = Workflow.getVersion(STEPS_CHANGE_ID, Workflow.DEFAULT_VERSION, STEPS_VERSION);
    this.input = input;
    this.options = effective(input.options());
    this.nodeId = input.nodeId();
    this.workflowId = Workflow.getInfo().getWorkflowId();
    this.startedAtMillis = Workflow.currentTimeMillis();
    setPhase(JoinPhase.VALIDATE);
    log.info("node {}: join started (steps version {}, deadline {} ms, fan-out {})", nodeId, stepsVersion,
        options.deadlineMillis(), options.fanOut());

    // Detached and never cancelled (see the activity options): left pending when the join ends.
    Workflow.newDetachedCancellationScope(() -> deadline = Workflow.newTimer(
        Duration.ofMillis(options.deadlineMillis()), TimerOptions.newBuilder().setSummary("join deadline").build()))
        .run();
    CancellationScope stepsScope = Workflow.newCancellationScope(() -> steps = Async.function(this::runSteps));
    stepsScope.run();

    try {
      Workflow.await(() -> steps.isCompleted() || deadline.isCompleted());
    } catch (CanceledFailure e) {
      // The workflow itself was cancelled, and the steps with it. Undo like a deadline so a
      // cancelled join leaves nothing behind either; the workflow then closes as cancelled
      // (the result is dropped), and the progress query tells what was undone.
      return finishAfterCancel("join cancelled during " + phase);
    }
    if (steps.isCompleted()) {
      RuntimeException failure = steps.getFailure();
      if (failure == null) {
        return steps.get();
      }
      if (failure instanceof StepFailure) {
        return compensate(failure.getMessage());
      }
      // Not a step failing but a bug in this class: fail the workflow task so a fixed worker
      // can resume it, rather than compensating a join that may be fine.
      throw failure;
    }
    String reason = "deadline of " + options.deadlineMillis() + " ms passed during " + phase;
    stepsScope.cancel(reason);
    return finishAfterCancel(reason);
  }

  @Override
  public JoinProgress progress() {
    return new JoinProgress(nodeId, phase, startedAtMillis, updatedAtMillis, List.copyOf(groups.values()), outcome);
  }

  /** The steps, in the steps' cancellation scope. Returns the result or throws a StepFailure. */
  private JoinResult runSteps() {
    ValidateResult validated;
    try {
      validated = activities(VALIDATE, "validate node " + nodeId + " at " + input.listenAddr())
          .validate(new ValidateInput(nodeId, input.listenAddr(), input.wireVersion(), input.clusterId()));
    } catch (ActivityFailure e) {
      ApplicationFailure rejection = rejection(e);
      if (rejection != null) {
        return reject(rejection);
      }
      throw new StepFailure("validate", e);
    }
    lastKnown = orEmpty(validated.current());
    int dataGroups = Math.max(0, validated.dataGroups());
    for (int g = 0; g <= dataGroups; g++) {
      setGroup(g, JoinPhase.GROUP_PENDING);
    }
    if (validated.alreadyJoined()) {
      for (int g = 0; g <= dataGroups; g++) {
        setGroup(g, JoinPhase.GROUP_CAUGHT_UP);
      }
      outcome = "already joined; nothing changed";
      setPhase(JoinPhase.DONE);
      log.info("node {}: already joined, nothing to do", nodeId);
      return JoinResult.joined(lastKnown, true);
    }

    // First compensation registered = last one run: tell every node about the topology once
    // the learners and the topology entry are gone.
    saga.addCompensation(() -> undo("broadcast", () -> activities(COMPENSATING_BROADCAST,
        "broadcast topology without node " + nodeId).broadcast(new BroadcastInput(nodeId, input.listenAddr()))));

    setPhase(JoinPhase.REGISTER_PEER);
    PeerInfo peer = change("registerPeer", () -> activities(REGISTER_PEER,
        "register node " + nodeId + " at " + input.listenAddr())
        .registerPeer(new RegisterInput(nodeId, input.listenAddr(), input.clusterId())));

    setPhase(JoinPhase.ADMIT);
    saga.addCompensation(() -> undo("evict", () -> activities(EVICT, "evict node " + nodeId + " from topology")
        .evict(new EvictInput(nodeId, workflowId, failureReason))));
    change("admit", () -> {
      activities(ADMIT, "admit node " + nodeId + " as JOINING").admit(new AdmitInput(nodeId, input.listenAddr(),
          peer.raftAddr(), peer.incarnation(), input.wireVersion(), workflowId));
      return null;
    });

    setPhase(JoinPhase.LEARNERS);
    joinGroups(dataGroups);

    setPhase(JoinPhase.PERSIST);
    ClusterSnapshot persisted = change("persist", () -> activities(PERSIST,
        "persist node " + nodeId + " as LEARNER with routing").persist(new PersistInput(nodeId, workflowId)));
    lastKnown = orEmpty(persisted);

    setPhase(JoinPhase.BROADCAST);
    BroadcastResult broadcast = change("broadcast", () -> activities(BROADCAST,
        "broadcast topology with node " + nodeId).broadcast(new BroadcastInput(nodeId, input.listenAddr())));
    if (broadcast != null && broadcast.unreachable() != null && !broadcast.unreachable().isEmpty()) {
      // Receivers catch up from any later, higher-versioned update; the join itself is complete.
      log.warn("node {}: topology version {} not delivered to {}", nodeId, broadcast.version(),
          broadcast.unreachable());
    }

    outcome = "joined " + (dataGroups + 1) + " groups as learner";
    setPhase(JoinPhase.DONE);
    log.info("node {}: joined {} groups as learner", nodeId, dataGroups + 1);
    return JoinResult.joined(lastKnown, false);
  }

  /**
   * Runs every group's addLearner + awaitLearner chain, at most {@code fanOut} addLearner at
   * once (before version 2: at most {@code fanOut} chains). The first chain that fails cancels
   * the others so compensation starts without waiting for them.
   */
  private void joinGroups(int dataGroups) {
    if (stepsVersion >= ADD_ONLY_SLOTS_AND_FULL_UNDO) {
      for (int g = 0; g <= dataGroups; g++) {
        int group = g;
        saga.addCompensation(() -> removeLearner(group));
      }
    }
    WorkflowSemaphore slots = Workflow.newWorkflowSemaphore(options.fanOut());
    CancellationScope chainsScope = Workflow.newCancellationScope(() -> {
      for (int g = 0; g <= dataGroups; g++) {
        int group = g;
        groupChains.add(Async.procedure(() -> joinGroup(group, slots)));
      }
    });
    chainsScope.run();
    try {
      Promise.allOf(groupChains).get();
    } catch (RuntimeException e) {
      chainsScope.cancel("another group failed");
      throw e;
    }
  }

  private void joinGroup(int group, WorkflowSemaphore slots) {
    slots.acquire();
    boolean holdingSlot = true;
    try {
      if (groupFailed) {
        // The failed chain's slot can reach a waiting chain before the cancellation does.
        throw new CanceledFailure("another group failed");
      }
      if (stepsVersion < ADD_ONLY_SLOTS_AND_FULL_UNDO) {
        // Registered before the call: addLearner may time out after changing the conf.
        saga.addCompensation(() -> removeLearner(group));
      }
      GroupInput groupInput = new GroupInput(nodeId, group);
      GroupStep added = change("addLearner of group " + group, () -> activities(ADD_LEARNER,
          "add learner node " + nodeId + " to group " + group).addLearner(groupInput));
      recordGroup(added);
      setGroup(group, JoinPhase.GROUP_LEARNER);
      if (stepsVersion >= ADD_ONLY_SLOTS_AND_FULL_UNDO) {
        slots.release();
        holdingSlot = false;
      }
      GroupStep caughtUp = step("awaitLearner of group " + group, () -> activities(AWAIT_LEARNER,
          "wait for node " + nodeId + " to catch up in group " + group).awaitLearner(groupInput));
      recordGroup(caughtUp);
      setGroup(group, JoinPhase.GROUP_CAUGHT_UP);
    } catch (RuntimeException e) {
      groupFailed = true;
      throw e;
    } finally {
      if (holdingSlot) {
        slots.release();
      }
    }
  }

  /** Waits for cancelled steps to settle, then compensates unless they finished after all. */
  private JoinResult finishAfterCancel(String reason) {
    List<JoinResult> finished = new ArrayList<>(1);
    // Detached: when the workflow itself was cancelled, waiting in its own scope would throw.
    Workflow.newDetachedCancellationScope(() -> {
      Workflow.await(() -> steps.isCompleted() && allSettled());
      if (steps.getFailure() == null) {
        finished.add(steps.get());
      }
    }).run();
    if (!finished.isEmpty()) {
      // The last step completed while the cancellation was on its way: the join is whole.
      return finished.get(0);
    }
    return compensate(reason);
  }

  private JoinResult compensate(String reason) {
    failureReason = reason;
    log.warn("node {}: compensating: {}", nodeId, reason);
    Workflow.newDetachedCancellationScope(() -> {
      // Group chains cancelled by a sibling's failure may still have an addLearner in flight.
      Workflow.await(this::allSettled);
      setPhase(JoinPhase.COMPENSATING);
      saga.compensate();
    }).run();
    String error = compensationFailures.isEmpty()
        ? reason
        : reason + "; compensation incomplete: " + String.join("; ", compensationFailures);
    outcome = "compensated: " + error;
    setPhase(JoinPhase.COMPENSATED);
    return JoinResult.failed(error, "", lastKnown);
  }

  private void removeLearner(int group) {
    undo("removeLearner of group " + group, () -> {
      GroupStep removed = activities(REMOVE_LEARNER, "remove learner node " + nodeId + " from group " + group)
          .removeLearner(new GroupInput(nodeId, group));
      recordGroup(removed);
      setGroup(group, JoinPhase.GROUP_REMOVED);
    });
  }

  private JoinResult reject(ApplicationFailure rejection) {
    String message = rejection.getOriginalMessage();
    outcome = "rejected: " + message;
    setPhase(JoinPhase.REJECTED);
    log.warn("node {}: join rejected ({}): {}", nodeId, rejection.getType(), message);
    return JoinResult.failed(message, rejection.getType(), lastKnown);
  }

  /** A read or a wait; abandoned when the join is cancelled. */
  private <T> T step(String what, Functions.Func<T> call) {
    // A cancelled join schedules nothing more.
    CancellationScope.throwCanceled();
    try {
      return call.apply();
    } catch (ActivityFailure e) {
      throw new StepFailure(what, e);
    }
  }

  /** A change to the cluster: once started, it runs to its end even if the join is cancelled. */
  private <T> T change(String what, Functions.Func<T> call) {
    CancellationScope.throwCanceled();
    List<T> result = new ArrayList<>(1);
    Workflow.newDetachedCancellationScope(() -> result.add(step(what, call))).run();
    return result.get(0);
  }

  private void undo(String what, Runnable call) {
    try {
      call.run();
    } catch (ActivityFailure e) {
      String failure = what + ": " + describe(e);
      compensationFailures.add(failure);
      log.error("node {}: compensation step failed: {}", nodeId, failure);
    }
  }

  private JoinActivities activities(ActivityOptions base, String summary) {
    ActivityOptions.Builder options = ActivityOptions.newBuilder(base).setSummary(Summaries.fit(summary));
    if (base.getScheduleToCloseTimeout() == null) {
      // A step's retries end shortly after the join's deadline. Steps that change the cluster
      // are awaited even after the deadline (they are never cancelled), so without this bound
      // one retrying forever against a dead node would keep the join from compensating at all.
      // The grace lets the deadline timer, not a step's timeout, name the reason.
      options.setScheduleToCloseTimeout(untilDeadline());
    }
    return Workflow.newActivityStub(JoinActivities.class, options.build());
  }

  private Duration untilDeadline() {
    long left = startedAtMillis + options.deadlineMillis() - Workflow.currentTimeMillis();
    return Duration.ofMillis(Math.max(MIN_STEP_MILLIS, left) + DEADLINE_GRACE_MILLIS);
  }

  private boolean allSettled() {
    for (Promise<Void> chain : groupChains) {
      if (!chain.isCompleted()) {
        return false;
      }
    }
    return true;
  }

  private void setPhase(String newPhase) {
    phase = newPhase;
    updatedAtMillis = Workflow.currentTimeMillis();
    Workflow.upsertTypedSearchAttributes(JoinSearchAttributes.PHASE.valueSet(newPhase));
    Workflow.setCurrentDetails(details());
  }

  private void setGroup(int group, String state) {
    updatedAtMillis = Workflow.currentTimeMillis();
    groups.put(group, new GroupProgress(group, state, updatedAtMillis));
    Workflow.setCurrentDetails(details());
  }

  /** A one-line summary for the UI, e.g. "learners: 5/9 caught up; catching up: 1,2; pending: 3,7". */
  private String details() {
    if (groups.isEmpty()) {
      return phase + ": node " + nodeId;
    }
    Map<String, List<Integer>> byState = new TreeMap<>();
    for (GroupProgress g : groups.values()) {
      byState.computeIfAbsent(g.state(), s -> new ArrayList<>()).add(g.groupId());
    }
    int caughtUp = byState.getOrDefault(JoinPhase.GROUP_CAUGHT_UP, List.of()).size();
    StringBuilder out = new StringBuilder(phase).append(": ").append(caughtUp).append('/').append(groups.size())
        .append(" caught up");
    appendGroups(out, "catching up", byState.get(JoinPhase.GROUP_LEARNER));
    appendGroups(out, "pending", byState.get(JoinPhase.GROUP_PENDING));
    appendGroups(out, "removed", byState.get(JoinPhase.GROUP_REMOVED));
    return out.toString();
  }

  private static void appendGroups(StringBuilder out, String label, List<Integer> ids) {
    if (ids == null || ids.isEmpty()) {
      return;
    }
    out.append("; ").append(label).append(": ");
    for (int i = 0; i < ids.size() && i < MAX_LISTED_GROUPS; i++) {
      out.append(i == 0 ? "" : ",").append(ids.get(i));
    }
    if (ids.size() > MAX_LISTED_GROUPS) {
      out.append(" +").append(ids.size() - MAX_LISTED_GROUPS).append(" more");
    }
  }

  /** Folds a group's membership after a step into the last known snapshot. */
  private void recordGroup(GroupStep step) {
    if (step == null) {
      return;
    }
    List<ClusterSnapshot.GroupInfo> updated = new ArrayList<>();
    if (lastKnown.groups() != null) {
      for (ClusterSnapshot.GroupInfo g : lastKnown.groups()) {
        if (g.groupId() != step.groupId()) {
          updated.add(g);
        }
      }
    }
    updated.add(new ClusterSnapshot.GroupInfo(step.groupId(), step.leader(), step.voters(), step.learners()));
    updated.sort(Comparator.comparingInt(ClusterSnapshot.GroupInfo::groupId));
    lastKnown = new ClusterSnapshot(lastKnown.clusterId(), lastKnown.topologyVersion(), lastKnown.dataGroups(),
        lastKnown.nodes(), List.copyOf(updated));
  }

  /** The failure when an activity rejected the request: non-retryable, so retrying cannot help. */
  private static ApplicationFailure rejection(ActivityFailure e) {
    if (e.getCause() instanceof ApplicationFailure app
        && (app.isNonRetryable() || Arrays.asList(JoinFailures.NON_RETRYABLE).contains(app.getType()))) {
      return app;
    }
    return null;
  }

  static String describe(ActivityFailure e) {
    Throwable cause = e.getCause();
    if (cause instanceof ApplicationFailure app) {
      return app.getOriginalMessage() + " (" + app.getType() + ")";
    }
    if (cause instanceof TimeoutFailure timeout) {
      return "timed out (" + timeout.getTimeoutType() + ")";
    }
    if (cause instanceof CanceledFailure) {
      return "cancelled";
    }
    return cause == null ? e.getMessage() : cause.getMessage();
  }

  private static JoinOptions effective(JoinOptions requested) {
    if (requested == null) {
      return JoinOptions.defaults();
    }
    return new JoinOptions(
        requested.deadlineMillis() > 0 ? requested.deadlineMillis() : JoinOptions.DEFAULT_DEADLINE_MILLIS,
        requested.fanOut() > 0 ? requested.fanOut() : JoinOptions.DEFAULT_FAN_OUT);
  }

  private static ClusterSnapshot orEmpty(ClusterSnapshot snapshot) {
    return snapshot == null ? ClusterSnapshot.empty() : snapshot;
  }

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

  /** A step that failed for good; its message names the step and the cause. */
  static final class StepFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StepFailure(String step, ActivityFailure cause) {
      super(step + " failed: " + describe(cause), cause);
    }
  }
}
