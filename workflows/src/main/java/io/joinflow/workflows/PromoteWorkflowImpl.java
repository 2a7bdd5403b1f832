package io.joinflow.workflows;

import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.BroadcastResult;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.joinflow.workflows.MembershipActivities.GroupRole;
import io.joinflow.workflows.MembershipActivities.MemberInput;
import io.joinflow.workflows.MembershipActivities.MemberState;
import io.joinflow.workflows.MembershipActivities.MemberStateInput;
import io.joinflow.workflows.MembershipActivities.PromoteVoterInput;
import io.joinflow.workflows.MembershipActivities.SettleInput;
import io.joinflow.workflows.MembershipActivities.SettleResult;
import io.joinflow.workflows.PromoteProgress.GroupPromotion;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.TimerOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowSemaphore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;

/**
 * The promotion workflow. Like the join it never sends a cancel command (the embedded server
 * wedges a workflow that cancels an activity or timer completing in the same task): activities
 * are ABANDON-cancelled and the stabilization timers are created in detached scopes and simply
 * left pending when {@code promoteNow} ends a window early. Every instance field is workflow
 * state, rebuilt by replay and read by the {@code progress} query. Any change to the sequence of
 * commands must branch on {@code Workflow.getVersion}; the fixtures under
 * {@code src/test/resources/histories/promote-*.json} catch a change that forgets to.
 */
public class PromoteWorkflowImpl implements PromoteWorkflow {
  private static final Logger log = Workflow.getLogger(PromoteWorkflowImpl.class);

  /** The {@code getVersion} change id guarding the order and shape of the promotion's steps. */
  public static final String STEPS_CHANGE_ID = "promote-steps";
  /**
   * The newest version of the steps ({@link Workflow#DEFAULT_VERSION}: the first).
   * <ol>
   *   <li>Fewer round trips: a group with no stabilization window to wait (none configured, or
   *       promoteNow already signalled) and no pause waits and is promoted in one activity,
   *       {@code catchUpAndPromote}; setMemberState and broadcast are one, {@code settleMember}.
   *   <li>A promotion handed the node's membership by the join that just ended
   *       ({@link PromoteInput#member}) starts on the groups at once, without describeMember.
   * </ol>
   */
  public static final int STEPS_VERSION = 2;
  /** The first version with catchUpAndPromote and settleMember. */
  static final int MERGED_STEPS = 1;
  /** The first version that takes the membership its input hands over instead of describing the node. */
  static final int HANDED_MEMBERSHIP = 2;

  static final RetryOptions CLUSTER_RETRY = RetryOptions.newBuilder()
      .setInitialInterval(Duration.ofMillis(200))
      .setBackoffCoefficient(2)
      .setMaximumInterval(Duration.ofSeconds(5))
      .setDoNotRetry(JoinFailures.NON_RETRYABLE)
      .build();
  static final ActivityOptions DESCRIBE = options(Duration.ofSeconds(10), Duration.ofMinutes(2));
  static final ActivityOptions PROMOTE_VOTER = options(Duration.ofSeconds(60), Duration.ofMinutes(5));
  static final ActivityOptions SET_STATE = options(Duration.ofSeconds(30), Duration.ofMinutes(5));
  static final ActivityOptions BROADCAST = options(Duration.ofSeconds(60), Duration.ofMinutes(5));
  static final ActivityOptions SETTLE = options(Duration.ofSeconds(90), Duration.ofMinutes(5));
  /** The shortest catch-up wait a group gets, even when the deadline is (almost) past. */
  private static final long MIN_WAIT_MILLIS = 1_000;

  private final Map<Integer, GroupPromotion> groups = new TreeMap<>();
  private long nodeId;
  private PromoteOptions options = PromoteOptions.defaults();
  private String phase = PromotePhase.DESCRIBE;
  private boolean paused;
  private boolean promoteNow;
  private boolean done;
  private long startedAtMillis;
  private long updatedAtMillis;
  private String outcome = "";
  private int stepsVersion;

  @Override
  public PromoteResult promote(PromoteInput input) {
    stepsVersion = Workflow.getVersion(STEPS_CHANGE_ID, Workflow.DEFAULT_VERSION, STEPS_VERSION);
    nodeId = input.nodeId();
    options = PromoteOptions.effective(input.options());
    startedAtMillis = Workflow.currentTimeMillis();
    setPhase(PromotePhase.DESCRIBE);
    log.info("node {}: promotion started (stabilization {} ms, catch-up deadline {} ms, voter limit {})", nodeId,
        options.stabilizationMillis(), options.catchUpDeadlineMillis(), options.maxVoters());

    MemberState member;
    if (stepsVersion >= HANDED_MEMBERSHIP && input.member() != null) {
      // Read by the join's last step, moments ago: describing the node again would read the same.
      member = input.member();
      log.info("node {}: membership handed over by its join: {} in {} groups", nodeId, member.nodeState(),
          member.groups().size());
    } else {
      try {
        member = membership(DESCRIBE, "describe node " + nodeId).describeMember(new MemberInput(nodeId));
      } catch (ActivityFailure e) {
        return fail("describe failed: " + JoinWorkflowImpl.describe(e), "", ClusterSnapshot.empty());
      }
    }
    if (!member.nodeState().equals("LEARNER") && !member.nodeState().equals("ACTIVE")) {
      return fail("node " + nodeId + " is " + member.nodeState() + "; only a LEARNER or ACTIVE node is promoted",
          member.nodeState(), ClusterSnapshot.empty());
    }
    for (GroupRole g : member.groups()) {
      setGroup(g.groupId(), PromotePhase.GROUP_PENDING, "");
    }

    setPhase(PromotePhase.GROUPS);
    WorkflowSemaphore slots = Workflow.newWorkflowSemaphore(options.fanOut());
    List<Promise<Void>> chains = new ArrayList<>();
    for (GroupRole g : member.groups()) {
      chains.add(Async.procedure(() -> promoteGroup(g, slots)));
    }
    Promise.allOf(chains).get();

    List<String> problems = new ArrayList<>();
    for (GroupPromotion g : groups.values()) {
      if (g.state().equals(PromotePhase.GROUP_LEARNER) && !g.detail().startsWith(LIMIT_REACHED)) {
        problems.add("group " + g.groupId() + ": " + g.detail());
      }
    }
    boolean success = problems.isEmpty();

    setPhase(PromotePhase.PERSIST);
    // Routing is published either way (the voters that did get promoted are real); the node
    // becomes ACTIVE only when every group ended as intended, and never from DRAINING or
    // DECOMMISSIONED (a leave that started meanwhile wins).
    ClusterSnapshot persisted;
    MemberStateInput state = new MemberStateInput(nodeId, success ? "ACTIVE" : "LEARNER", List.of("LEARNER", "ACTIVE"));
    String persisting = "persist node " + nodeId + (success ? " as ACTIVE" : "") + " with routing";
    if (stepsVersion >= MERGED_STEPS) {
      SettleResult settled;
      try {
        settled = membership(SETTLE, persisting + ", broadcast topology")
            .settleMember(new SettleInput(state, member.listenAddr()));
      } catch (ActivityFailure e) {
        problems.add("persist failed: " + JoinWorkflowImpl.describe(e));
        return fail(String.join("; ", problems), member.nodeState(), ClusterSnapshot.empty());
      }
      persisted = settled.persisted();
      if (settled.broadcast() == null) {
        log.warn("node {}: broadcast after promotion failed; receivers catch up from a later update", nodeId);
      } else {
        warnUndelivered(settled.broadcast());
      }
    } else {
      try {
        persisted = membership(SET_STATE, persisting).setMemberState(state);
      } catch (ActivityFailure e) {
        problems.add("persist failed: " + JoinWorkflowImpl.describe(e));
        return fail(String.join("; ", problems), member.nodeState(), ClusterSnapshot.empty());
      }

      setPhase(PromotePhase.BROADCAST);
      try {
        warnUndelivered(join(BROADCAST, "broadcast topology after promoting node " + nodeId)
            .broadcast(new BroadcastInput(nodeId, member.listenAddr())));
      } catch (ActivityFailure e) {
        // Receivers catch up from any later, higher-versioned update; the promotion itself is done.
        log.warn("node {}: broadcast after promotion failed: {}", nodeId, JoinWorkflowImpl.describe(e));
      }
    }

    String nodeState = stateOf(persisted, nodeId, member.nodeState());
    long voters = groups.values().stream().filter(g -> g.state().equals(PromotePhase.GROUP_VOTER)).count();
    if (success) {
      outcome = "voter in " + voters + " of " + groups.size() + " groups; node " + nodeState;
      setPhase(PromotePhase.DONE);
    } else {
      outcome = "voter in " + voters + " of " + groups.size() + " groups; " + String.join("; ", problems);
      setPhase(PromotePhase.FAILED);
    }
    done = true;
    log.info("node {}: promotion finished: {}", nodeId, outcome);
    return new PromoteResult(success, success ? "" : String.join("; ", problems), nodeState,
        List.copyOf(groups.values()), persisted);
  }

  static final String LIMIT_REACHED = "voter limit";

  private void promoteGroup(GroupRole role, WorkflowSemaphore slots) {
    int group = role.groupId();
    if (role.role().equals(GroupRole.VOTER)) {
      setGroup(group, PromotePhase.GROUP_VOTER, "");
      return;
    }
    if (!role.role().equals(GroupRole.LEARNER)) {
      setGroup(group, PromotePhase.GROUP_LEARNER, "node " + nodeId + " is not a member of group " + group);
      return;
    }
    setGroup(group, PromotePhase.GROUP_CATCHING_UP, "");
    if (stepsVersion >= MERGED_STEPS && (options.stabilizationMillis() <= 0 || promoteNow) && !paused) {
      catchUpAndPromote(group, slots);
      return;
    }
    slots.acquire();
    try {
      join(awaitOptions(), "await learner node " + nodeId + " in group " + group)
          .awaitLearner(new GroupInput(nodeId, group));
    } catch (ActivityFailure e) {
      String why = e.getCause() instanceof TimeoutFailure
          ? "not caught up within the catch-up deadline of " + options.catchUpDeadlineMillis() + " ms"
          : "not caught up: " + JoinWorkflowImpl.describe(e);
      setGroup(group, PromotePhase.GROUP_LEARNER, why);
      return;
    } finally {
      slots.release();
    }

    setGroup(group, PromotePhase.GROUP_STABILIZING, "");
    if (options.stabilizationMillis() > 0 && !promoteNow) {
      // Detached and never cancelled: promoteNow leaves it pending instead (see the class doc).
      List<Promise<Void>> window = new ArrayList<>(1);
      Workflow.newDetachedCancellationScope(() -> window.add(Workflow.newTimer(
          Duration.ofMillis(options.stabilizationMillis()),
          TimerOptions.newBuilder().setSummary("stabilization window of group " + group).build()))).run();
      Workflow.await(() -> window.get(0).isCompleted() || promoteNow);
    }
    Workflow.await(() -> !paused);

    slots.acquire();
    try {
      recordPromotion(group, membership(PROMOTE_VOTER, "promote node " + nodeId + " to voter of group " + group)
          .promoteVoter(new PromoteVoterInput(nodeId, group, options.maxVoters())));
    } catch (ActivityFailure e) {
      setGroup(group, PromotePhase.GROUP_LEARNER, "promotion failed: " + JoinWorkflowImpl.describe(e));
    } finally {
      slots.release();
    }
  }

  /** Version 1, nothing to wait for between catching up and promoting: both in one activity. */
  private void catchUpAndPromote(int group, WorkflowSemaphore slots) {
    slots.acquire();
    try {
      recordPromotion(group, membership(catchUpAndPromoteOptions(), "await learner node " + nodeId + " in group " + group
          + ", promote it to voter").catchUpAndPromote(new PromoteVoterInput(nodeId, group, options.maxVoters())));
    } catch (ActivityFailure e) {
      String why = e.getCause() instanceof TimeoutFailure
          ? "not caught up within the catch-up deadline of " + options.catchUpDeadlineMillis() + " ms"
          : "not caught up or not promoted: " + JoinWorkflowImpl.describe(e);
      setGroup(group, PromotePhase.GROUP_LEARNER, why);
    } finally {
      slots.release();
    }
  }

  private void recordPromotion(int group, GroupStep step) {
    if (step.voters().contains(nodeId)) {
      setGroup(group, PromotePhase.GROUP_VOTER, "");
    } else {
      setGroup(group, PromotePhase.GROUP_LEARNER, LIMIT_REACHED + " of " + options.maxVoters() + " reached (voters "
          + step.voters() + ")");
    }
  }

  private void warnUndelivered(BroadcastResult broadcast) {
    if (broadcast != null && broadcast.unreachable() != null && !broadcast.unreachable().isEmpty()) {
      log.warn("node {}: topology version {} not delivered to {}", nodeId, broadcast.version(),
          broadcast.unreachable());
    }
  }

  @Override
  public void pause() {
    paused = true;
    touch();
  }

  @Override
  public void resume() {
    paused = false;
    touch();
  }

  @Override
  public void promoteNow() {
    promoteNow = true;
    touch();
  }

  @Override
  public PromoteProgress progress() {
    return new PromoteProgress(nodeId, phase, paused, promoteNow, startedAtMillis, updatedAtMillis,
        List.copyOf(groups.values()), outcome, done);
  }

  private PromoteResult fail(String error, String nodeState, ClusterSnapshot cluster) {
    outcome = "failed: " + error;
    setPhase(PromotePhase.FAILED);
    done = true;
    log.warn("node {}: promotion failed: {}", nodeId, error);
    return new PromoteResult(false, error, nodeState, List.copyOf(groups.values()), cluster);
  }

  private ActivityOptions awaitOptions() {
    long left = startedAtMillis + options.catchUpDeadlineMillis() - Workflow.currentTimeMillis();
    Duration bound = Duration.ofMillis(Math.max(MIN_WAIT_MILLIS, left));
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(bound)
        .setScheduleToCloseTimeout(bound)
        .setHeartbeatTimeout(Duration.ofSeconds(10))
        .setRetryOptions(CLUSTER_RETRY)
        .setCancellationType(ActivityCancellationType.ABANDON)
        .build();
  }

  /** The catch-up's bound, plus the time a promotion gets on its own. */
  private ActivityOptions catchUpAndPromoteOptions() {
    ActivityOptions await = awaitOptions();
    Duration bound = await.getStartToCloseTimeout().plus(PROMOTE_VOTER.getStartToCloseTimeout());
    return ActivityOptions.newBuilder(await).setStartToCloseTimeout(bound).setScheduleToCloseTimeout(bound).build();
  }

  private static String stateOf(ClusterSnapshot cluster, long nodeId, String fallback) {
    if (cluster == null || cluster.nodes() == null) {
      return fallback;
    }
    return cluster.nodes().stream().filter(n -> n.nodeId() == nodeId).map(ClusterSnapshot.NodeInfo::state)
        .findFirst().orElse(fallback);
  }

  private void touch() {
    updatedAtMillis = Workflow.currentTimeMillis();
  }

  private void setPhase(String newPhase) {
    phase = newPhase;
    touch();
    Workflow.upsertTypedSearchAttributes(JoinSearchAttributes.PHASE.valueSet("promote-" + newPhase));
    Workflow.setCurrentDetails(details());
  }

  private void setGroup(int group, String state, String detail) {
    touch();
    groups.put(group, new GroupPromotion(group, state, detail, updatedAtMillis));
    Workflow.setCurrentDetails(details());
  }

  /** A one-line summary for the UI, e.g. "groups: 3/9 voter; stabilizing: 2; paused". */
  private String details() {
    Map<String, List<Integer>> byState = new TreeMap<>();
    for (GroupPromotion g : groups.values()) {
      byState.computeIfAbsent(g.state(), s -> new ArrayList<>()).add(g.groupId());
    }
    StringBuilder out = new StringBuilder(phase).append(": node ").append(nodeId);
    if (!groups.isEmpty()) {
      out.append(", ").append(byState.getOrDefault(PromotePhase.GROUP_VOTER, List.of()).size()).append('/')
          .append(groups.size()).append(" voter");
    }
    for (Map.Entry<String, List<Integer>> e : byState.entrySet()) {
      if (!e.getKey().equals(PromotePhase.GROUP_VOTER)) {
        out.append("; ").append(e.getKey()).append(": ").append(e.getValue().size());
      }
    }
    if (paused) {
      out.append("; paused");
    }
    return out.toString();
  }

  private static MembershipActivities membership(ActivityOptions base, String summary) {
    return Workflow.newActivityStub(MembershipActivities.class,
        ActivityOptions.newBuilder(base).setSummary(Summaries.fit(summary)).build());
  }

  private static JoinActivities join(ActivityOptions base, String summary) {
    return Workflow.newActivityStub(JoinActivities.class, ActivityOptions.newBuilder(base)
        .setSummary(Summaries.fit(summary)).build());
  }

  static ActivityOptions options(Duration startToClose, Duration scheduleToClose) {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(startToClose)
        .setScheduleToCloseTimeout(scheduleToClose)
        .setRetryOptions(CLUSTER_RETRY)
        .setCancellationType(ActivityCancellationType.ABANDON)
        .build();
  }
}
