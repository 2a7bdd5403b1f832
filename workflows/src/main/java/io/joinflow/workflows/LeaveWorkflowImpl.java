package io.joinflow.workflows;

import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.joinflow.workflows.JoinProgress.GroupProgress;
import io.joinflow.workflows.MembershipActivities.GroupRole;
import io.joinflow.workflows.MembershipActivities.LeavePlan;
import io.joinflow.workflows.MembershipActivities.MemberInput;
import io.joinflow.workflows.MembershipActivities.MemberStateInput;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowSemaphore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;

/**
 * The leave workflow: planLeave, DRAINING, per group moveLeadership then removeMember (data
 * groups in parallel and bounded, group 0 last, so the node keeps hearing topology until the
 * end), DECOMMISSIONED with routing, broadcast. No compensation: a step that fails for good
 * leaves the node DRAINING (it still serves what it still hosts) and the result names the
 * step; running the leave again resumes it. Never sends cancel commands (activities are
 * ABANDON-cancelled), like the join and the promotion.
 */
public class LeaveWorkflowImpl implements LeaveWorkflow {
  private static final Logger log = Workflow.getLogger(LeaveWorkflowImpl.class);

  static final ActivityOptions PLAN = PromoteWorkflowImpl.options(Duration.ofSeconds(30), Duration.ofMinutes(2));
  static final ActivityOptions SET_STATE = PromoteWorkflowImpl.options(Duration.ofSeconds(30), Duration.ofMinutes(5));
  static final ActivityOptions MOVE_LEADERSHIP = PromoteWorkflowImpl.options(Duration.ofSeconds(30),
      Duration.ofMinutes(3));
  static final ActivityOptions REMOVE_MEMBER = PromoteWorkflowImpl.options(Duration.ofSeconds(60),
      Duration.ofMinutes(5));
  static final ActivityOptions BROADCAST = PromoteWorkflowImpl.options(Duration.ofSeconds(60), Duration.ofMinutes(5));
  private static final int DEFAULT_FAN_OUT = 16;

  private final Map<Integer, GroupProgress> groups = new TreeMap<>();
  private final List<Integer> removed = new ArrayList<>();
  private final List<Integer> moved = new ArrayList<>();
  private long nodeId;
  private String phase = PromotePhase.PLAN;
  private long startedAtMillis;
  private long updatedAtMillis;
  private String outcome = "";

  @Override
  public LeaveResult leave(LeaveInput input) {
    nodeId = input.nodeId();
    startedAtMillis = Workflow.currentTimeMillis();
    setPhase(PromotePhase.PLAN);
    LeavePlan plan;
    try {
      plan = membership(PLAN, "check that node " + nodeId + " may leave").planLeave(new MemberInput(nodeId));
    } catch (ActivityFailure e) {
      if (e.getCause() instanceof ApplicationFailure app
          && (app.isNonRetryable() || Arrays.asList(JoinFailures.NON_RETRYABLE).contains(app.getType()))) {
        outcome = "refused: " + app.getOriginalMessage();
        setPhase(PromotePhase.REFUSED);
        log.warn("node {}: leave refused ({}): {}", nodeId, app.getType(), app.getOriginalMessage());
        return new LeaveResult(false, app.getOriginalMessage(), app.getType(), List.of(), List.of(), false,
            ClusterSnapshot.empty());
      }
      return failed("planLeave failed: " + JoinWorkflowImpl.describe(e), ClusterSnapshot.empty());
    }
    if (plan.alreadyLeft()) {
      outcome = "already left; nothing changed";
      setPhase(PromotePhase.DONE);
      return new LeaveResult(true, "", "", List.of(), List.of(), true, ClusterSnapshot.empty());
    }
    for (GroupRole g : plan.groups()) {
      setGroup(g.groupId(), PromotePhase.GROUP_PENDING);
    }

    setPhase(PromotePhase.DRAIN);
    try {
      membership(SET_STATE, "mark node " + nodeId + " DRAINING").setMemberState(new MemberStateInput(nodeId,
          "DRAINING", List.of("LEARNER", "ACTIVE", "DRAINING")));
    } catch (ActivityFailure e) {
      return failed("marking DRAINING failed: " + JoinWorkflowImpl.describe(e), ClusterSnapshot.empty());
    }

    setPhase(PromotePhase.GROUPS);
    int fanOut = input.fanOut() > 0 ? input.fanOut() : DEFAULT_FAN_OUT;
    WorkflowSemaphore slots = Workflow.newWorkflowSemaphore(fanOut);
    List<Promise<String>> chains = new ArrayList<>();
    GroupRole metadata = null;
    for (GroupRole g : plan.groups()) {
      if (g.groupId() == 0) {
        metadata = g;
      } else {
        chains.add(Async.function(() -> leaveGroup(g.groupId(), slots)));
      }
    }
    List<String> problems = new ArrayList<>();
    for (Promise<String> chain : chains) {
      String problem = chain.get();
      if (problem != null) {
        problems.add(problem);
      }
    }
    if (metadata != null && problems.isEmpty()) {
      String problem = leaveGroup(0, slots);
      if (problem != null) {
        problems.add(problem);
      }
    }
    if (!problems.isEmpty()) {
      return failed(String.join("; ", problems) + "; node " + nodeId + " stays DRAINING, leave again to finish",
          ClusterSnapshot.empty());
    }

    setPhase(PromotePhase.PERSIST);
    ClusterSnapshot persisted;
    try {
      persisted = membership(SET_STATE, "mark node " + nodeId + " DECOMMISSIONED with routing")
          .setMemberState(new MemberStateInput(nodeId, "DECOMMISSIONED", List.of("DRAINING", "DECOMMISSIONED")));
    } catch (ActivityFailure e) {
      return failed("marking DECOMMISSIONED failed: " + JoinWorkflowImpl.describe(e), ClusterSnapshot.empty());
    }

    setPhase(PromotePhase.BROADCAST);
    try {
      Workflow.newActivityStub(JoinActivities.class, ActivityOptions.newBuilder(BROADCAST)
          .setSummary("broadcast topology without node " + nodeId).build())
          .broadcast(new BroadcastInput(nodeId, plan.listenAddr()));
    } catch (ActivityFailure e) {
      log.warn("node {}: broadcast after leave failed: {}", nodeId, JoinWorkflowImpl.describe(e));
    }
    outcome = "left " + removed.size() + " groups; DECOMMISSIONED";
    setPhase(PromotePhase.DONE);
    log.info("node {}: {}", nodeId, outcome);
    return new LeaveResult(true, "", "", sorted(removed), sorted(moved), false, persisted);
  }

  /** Moves the group's leadership away, then removes the node. Returns a problem, or null. */
  private String leaveGroup(int group, WorkflowSemaphore slots) {
    slots.acquire();
    try {
      setGroup(group, PromotePhase.GROUP_MOVING_LEADERSHIP);
      GroupInput in = new GroupInput(nodeId, group);
      try {
        GroupStep step = membership(MOVE_LEADERSHIP, "move leadership of group " + group + " away from node "
            + nodeId).moveLeadership(in);
        if (step.changed()) {
          moved.add(group);
        }
      } catch (ActivityFailure e) {
        // Removing the leader still works (Ratis makes it step down once the new conf
        // commits); a transfer only makes the hand-off quicker. So carry on.
        log.warn("node {}: moving leadership of group {} failed: {}", nodeId, group, JoinWorkflowImpl.describe(e));
      }
      setGroup(group, PromotePhase.GROUP_REMOVING);
      try {
        membership(REMOVE_MEMBER, "remove node " + nodeId + " from group " + group).removeMember(in);
      } catch (ActivityFailure e) {
        setGroup(group, PromotePhase.GROUP_PENDING);
        return "removeMember of group " + group + " failed: " + JoinWorkflowImpl.describe(e);
      }
      removed.add(group);
      setGroup(group, PromotePhase.GROUP_REMOVED);
      return null;
    } finally {
      slots.release();
    }
  }

  @Override
  public JoinProgress progress() {
    return new JoinProgress(nodeId, phase, startedAtMillis, updatedAtMillis, List.copyOf(groups.values()), outcome);
  }

  private LeaveResult failed(String error, ClusterSnapshot cluster) {
    outcome = "failed: " + error;
    setPhase(PromotePhase.FAILED);
    log.warn("node {}: leave failed: {}", nodeId, error);
    return new LeaveResult(false, error, "", sorted(removed), sorted(moved), false, cluster);
  }

  private static List<Integer> sorted(List<Integer> ids) {
    List<Integer> out = new ArrayList<>(ids);
    out.sort(null);
    return List.copyOf(out);
  }

  private void setPhase(String newPhase) {
    phase = newPhase;
    updatedAtMillis = Workflow.currentTimeMillis();
    Workflow.upsertTypedSearchAttributes(JoinSearchAttributes.PHASE.valueSet("leave-" + newPhase));
    Workflow.setCurrentDetails(phase + ": node " + nodeId + ", removed from " + removed.size() + "/"
        + groups.size() + " groups");
  }

  private void setGroup(int group, String state) {
    updatedAtMillis = Workflow.currentTimeMillis();
    groups.put(group, new GroupProgress(group, state, updatedAtMillis));
  }

  private static MembershipActivities membership(ActivityOptions base, String summary) {
    return Workflow.newActivityStub(MembershipActivities.class,
        ActivityOptions.newBuilder(base).setSummary(Summaries.fit(summary)).build());
  }
}
