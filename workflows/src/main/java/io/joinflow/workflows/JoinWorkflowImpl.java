package io.joinflow.workflows;

import io.joinflow.workflows.JoinActivities.AdmitInput;
import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.BroadcastResult;
import io.joinflow.workflows.JoinActivities.EvictInput;
import io.joinflow.workflows.JoinActivities.FinishInput;
import io.joinflow.workflows.JoinActivities.FinishResult;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.joinflow.workflows.JoinActivities.PeerInfo;
import io.joinflow.workflows.JoinActivities.PersistInput;
import io.joinflow.workflows.JoinActivities.PrepareInput;
import io.joinflow.workflows.JoinActivities.PrepareResult;
import io.joinflow.workflows.JoinActivities.RegisterInput;
import io.joinflow.workflows.JoinActivities.ValidateInput;
import io.joinflow.workflows.JoinActivities.ValidateResult;
import io.temporal.activity.ActivityOptions;
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
import java.util.List;
import org.slf4j.Logger;

/**
 * The join workflow: prepare (validate, registerPeer, admit), then addLearner + awaitLearner per
 * group (bounded fan-out), then finish (persist, broadcast); compensation in reverse order when
 * a step fails for good or the deadline passes. Before steps version 3 the five steps in
 * prepare and finish were activities of their own; histories of those versions replay through
 * {@link #runSeparateSteps}.
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
   *   <li>Fewer round trips: validate, registerPeer and admit are one activity, {@code prepare},
   *       and persist and broadcast are one, {@code finish}. The evict compensation is
   *       registered before prepare, which may admit the node; a rejection from prepare comes
   *       before anything changed and compensates nothing, like validate's.
   * </ol>
   */
  public static final int STEPS_VERSION = 3;
  /** The first version with the fan-out bound on addLearner only and every removal registered up front. */
  static final int ADD_ONLY_SLOTS_AND_FULL_UNDO = 2;
  /** The first version with prepare and finish in place of five activities. */
  static final int MERGED_STEPS = 3;

  private static final Logger log = Workflow.getLogger(JoinWorkflowImpl.class);

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
  private final List<Promise<Void>> groupChains = new ArrayList<>();
  private final List<String> compensationFailures = new ArrayList<>();

  private JoinInput input;
  private JoinOptions options = JoinOptions.defaults();
  private String workflowId = "";
  private long nodeId;
  private long startedAtMillis;
  /** Phase, per-group state and outcome: what the progress query, search attributes and details show. */
  private final JoinProgressState progress = new JoinProgressState();
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
    progress.start(nodeId, startedAtMillis);
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
      return finishAfterCancel("join cancelled during " + progress.phase());
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
    String reason = "deadline of " + options.deadlineMillis() + " ms passed during " + progress.phase();
    stepsScope.cancel(reason);
    return finishAfterCancel(reason);
  }

  @Override
  public JoinProgress progress() {
    return progress.snapshot();
  }

  /** The steps, in the steps' cancellation scope. Returns the result or throws a StepFailure. */
  private JoinResult runSteps() {
    return stepsVersion >= MERGED_STEPS ? runMergedSteps() : runSeparateSteps();
  }

  /** Version 3: prepare, the groups, finish. */
  private JoinResult runMergedSteps() {
    // Registered before prepare, which admits the node: a prepare that fails for good may have
    // done so. Compensations run last first: evict, then tell every node about the topology.
    saga.addCompensation(() -> undo("broadcast", () -> activities(JoinStepOptions.COMPENSATING_BROADCAST,
        "broadcast topology without node " + nodeId).broadcast(new BroadcastInput(nodeId, input.listenAddr()))));
    saga.addCompensation(() -> undo("evict", () -> activities(JoinStepOptions.EVICT, "evict node " + nodeId + " from topology")
        .evict(new EvictInput(nodeId, workflowId, failureReason))));
    PrepareResult prepared;
    try {
      prepared = changeOrRejection("prepare", () -> activities(JoinStepOptions.PREPARE,
          "validate, register and admit node " + nodeId + " at " + input.listenAddr())
          .prepare(new PrepareInput(nodeId, input.listenAddr(), input.wireVersion(), input.clusterId(), workflowId)));
    } catch (Rejected rejected) {
      // Every rejection of prepare comes before it changed anything: nothing to undo.
      return reject(rejected.failure);
    }
    lastKnown = orEmpty(prepared.current());
    int dataGroups = Math.max(0, prepared.dataGroups());
    for (int g = 0; g <= dataGroups; g++) {
      setGroup(g, JoinPhase.GROUP_PENDING);
    }
    if (prepared.alreadyJoined()) {
      return alreadyJoined(dataGroups);
    }

    setPhase(JoinPhase.LEARNERS);
    joinGroups(dataGroups);

    setPhase(JoinPhase.PERSIST);
    FinishResult finished = change("finish", () -> activities(JoinStepOptions.FINISH,
        "persist node " + nodeId + " as LEARNER with routing, broadcast topology")
        .finish(new FinishInput(nodeId, input.listenAddr(), workflowId)));
    lastKnown = orEmpty(finished.persisted());
    warnUndelivered(finished.broadcast());
    return joined(dataGroups);
  }

  /** Versions 1 and 2: validate, registerPeer, admit, the groups, persist, broadcast. */
  private JoinResult runSeparateSteps() {
    ValidateResult validated;
    try {
      validated = activities(JoinStepOptions.VALIDATE, "validate node " + nodeId + " at " + input.listenAddr())
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
      return alreadyJoined(dataGroups);
    }

    // First compensation registered = last one run: tell every node about the topology once
    // the learners and the topology entry are gone.
    saga.addCompensation(() -> undo("broadcast", () -> activities(JoinStepOptions.COMPENSATING_BROADCAST,
        "broadcast topology without node " + nodeId).broadcast(new BroadcastInput(nodeId, input.listenAddr()))));

    setPhase(JoinPhase.REGISTER_PEER);
    PeerInfo peer = change("registerPeer", () -> activities(JoinStepOptions.REGISTER_PEER,
        "register node " + nodeId + " at " + input.listenAddr())
        .registerPeer(new RegisterInput(nodeId, input.listenAddr(), input.clusterId())));

    setPhase(JoinPhase.ADMIT);
    saga.addCompensation(() -> undo("evict", () -> activities(JoinStepOptions.EVICT, "evict node " + nodeId + " from topology")
        .evict(new EvictInput(nodeId, workflowId, failureReason))));
    change("admit", () -> {
      activities(JoinStepOptions.ADMIT, "admit node " + nodeId + " as JOINING").admit(new AdmitInput(nodeId, input.listenAddr(),
          peer.raftAddr(), peer.incarnation(), input.wireVersion(), workflowId));
      return null;
    });

    setPhase(JoinPhase.LEARNERS);
    joinGroups(dataGroups);

    setPhase(JoinPhase.PERSIST);
    ClusterSnapshot persisted = change("persist", () -> activities(JoinStepOptions.PERSIST,
        "persist node " + nodeId + " as LEARNER with routing").persist(new PersistInput(nodeId, workflowId)));
    lastKnown = orEmpty(persisted);

    setPhase(JoinPhase.BROADCAST);
    BroadcastResult broadcast = change("broadcast", () -> activities(JoinStepOptions.BROADCAST,
        "broadcast topology with node " + nodeId).broadcast(new BroadcastInput(nodeId, input.listenAddr())));
    warnUndelivered(broadcast);
    return joined(dataGroups);
  }

  private JoinResult alreadyJoined(int dataGroups) {
    for (int g = 0; g <= dataGroups; g++) {
      setGroup(g, JoinPhase.GROUP_CAUGHT_UP);
    }
    progress.outcome("already joined; nothing changed");
    setPhase(JoinPhase.DONE);
    log.info("node {}: already joined, nothing to do", nodeId);
    return JoinResult.joined(lastKnown, true);
  }

  private JoinResult joined(int dataGroups) {
    progress.outcome("joined " + (dataGroups + 1) + " groups as learner");
    setPhase(JoinPhase.DONE);
    log.info("node {}: joined {} groups as learner", nodeId, dataGroups + 1);
    return JoinResult.joined(lastKnown, false);
  }

  private void warnUndelivered(BroadcastResult broadcast) {
    if (broadcast != null && broadcast.unreachable() != null && !broadcast.unreachable().isEmpty()) {
      // Receivers catch up from any later, higher-versioned update; the join itself is complete.
      log.warn("node {}: topology version {} not delivered to {}", nodeId, broadcast.version(),
          broadcast.unreachable());
    }
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
      GroupStep added = change("addLearner of group " + group, () -> activities(JoinStepOptions.ADD_LEARNER,
          "add learner node " + nodeId + " to group " + group).addLearner(groupInput));
      recordGroup(added);
      setGroup(group, JoinPhase.GROUP_LEARNER);
      if (stepsVersion >= ADD_ONLY_SLOTS_AND_FULL_UNDO) {
        slots.release();
        holdingSlot = false;
      }
      GroupStep caughtUp = step("awaitLearner of group " + group, () -> activities(JoinStepOptions.AWAIT_LEARNER,
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
    progress.outcome("compensated: " + error);
    setPhase(JoinPhase.COMPENSATED);
    return JoinResult.failed(error, "", lastKnown);
  }

  private void removeLearner(int group) {
    undo("removeLearner of group " + group, () -> {
      GroupStep removed = activities(JoinStepOptions.REMOVE_LEARNER, "remove learner node " + nodeId + " from group " + group)
          .removeLearner(new GroupInput(nodeId, group));
      recordGroup(removed);
      setGroup(group, JoinPhase.GROUP_REMOVED);
    });
  }

  private JoinResult reject(ApplicationFailure rejection) {
    String message = rejection.getOriginalMessage();
    progress.outcome("rejected: " + message);
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

  /**
   * Like {@link #change}, but a rejection (a non-retryable failure: retrying cannot help) is
   * thrown as {@link Rejected} rather than as a step failure.
   */
  private <T> T changeOrRejection(String what, Functions.Func<T> call) {
    CancellationScope.throwCanceled();
    List<T> result = new ArrayList<>(1);
    List<ApplicationFailure> rejected = new ArrayList<>(1);
    Workflow.newDetachedCancellationScope(() -> {
      try {
        result.add(call.apply());
      } catch (ActivityFailure e) {
        ApplicationFailure rejection = rejection(e);
        if (rejection == null) {
          throw new StepFailure(what, e);
        }
        rejected.add(rejection);
      }
    }).run();
    if (!rejected.isEmpty()) {
      throw new Rejected(rejected.get(0));
    }
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
    progress.phase(newPhase);
  }

  private void setGroup(int group, String state) {
    progress.group(group, state);
  }

  /** Folds a group's membership after a step into the last known snapshot. */
  private void recordGroup(GroupStep step) {
    if (step != null) {
      lastKnown = lastKnown.withGroup(new ClusterSnapshot.GroupInfo(step.groupId(), step.leader(), step.voters(),
          step.learners()));
    }
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

  /** A step's rejection, on its way to {@link #reject}; never leaves this class. */
  private static final class Rejected extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient ApplicationFailure failure;

    Rejected(ApplicationFailure failure) {
      super(failure.getOriginalMessage(), null, false, false);
      this.failure = failure;
    }
  }

  /** A step that failed for good; its message names the step and the cause. */
  static final class StepFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StepFailure(String step, ActivityFailure cause) {
      super(step + " failed: " + describe(cause), cause);
    }
  }
}
