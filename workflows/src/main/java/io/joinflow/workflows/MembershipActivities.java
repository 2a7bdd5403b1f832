package io.joinflow.workflows;

import io.joinflow.workflows.JoinActivities.BroadcastResult;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;

/**
 * The side effects of promotion and leave. Like {@link JoinActivities}, every method reads the
 * current state first and treats a state that already holds as done, so re-running it after a
 * crash, a timeout or a leader change is harmless. Rejections are non-retryable
 * {@code ApplicationFailure}s typed with a {@link JoinFailures} constant; everything transient
 * is {@link JoinFailures#UNAVAILABLE}. Promotion also uses {@link JoinActivities#awaitLearner}
 * and {@link JoinActivities#broadcast}, so both interfaces run on the same worker.
 */
@ActivityInterface
public interface MembershipActivities {

  /**
   * The node's topology entry and its role in every group, from the groups' live
   * configurations. Pure read. NOT_FOUND when the node is not in the topology.
   */
  @ActivityMethod(name = "describeMember")
  MemberState describeMember(MemberInput input);

  /**
   * Compare-and-sets a learner into the group's voters, unless the group already has
   * {@code maxVoters} voters (0 = no limit): then nothing changes and the returned voters do
   * not contain the node. Already a voter is success. FAILED_PRECONDITION when the node is
   * neither learner nor voter of the group.
   */
  @ActivityMethod(name = "promoteVoter")
  GroupStep promoteVoter(PromoteVoterInput input);

  /**
   * {@link JoinActivities#awaitLearner} and then {@link #promoteVoter} in one call (promotion
   * steps version 1, when no stabilization window separates them): the learner is promoted
   * only once the leader's match index shows it caught up. Heartbeats while it waits.
   */
  @ActivityMethod(name = "catchUpAndPromote")
  GroupStep catchUpAndPromote(PromoteVoterInput input);

  /**
   * {@link #setMemberState} and then {@link JoinActivities#broadcast} in one call (promotion
   * steps version 1). A broadcast that fails leaves the state set: the result's
   * {@code broadcast} is then null, and receivers catch up from any later update.
   */
  @ActivityMethod(name = "settleMember")
  SettleResult settleMember(SettleInput input);

  /**
   * Group 0, in one entry: the node's state set to {@code state} when it is now in one of
   * {@code from} (otherwise the state is left as it is, and the result says so), and the
   * routing of every group refreshed from its live configuration.
   */
  @ActivityMethod(name = "setMemberState")
  ClusterSnapshot setMemberState(MemberStateInput input);

  /**
   * Checks that the node may leave, and returns what leaving involves. Pure read. Refused with
   * FAILED_PRECONDITION when a group the node votes in would be left without voters, or
   * without a reachable majority of its remaining voters, or when another learner of one of
   * its groups is unreachable (Ratis stages every listener on a conf change, so the change
   * would stall); NOT_FOUND when the node is not in the topology.
   */
  @ActivityMethod(name = "planLeave")
  LeavePlan planLeave(MemberInput input);

  /** Moves the group's leadership away from the node when it leads the group; else nothing. */
  @ActivityMethod(name = "moveLeadership")
  GroupStep moveLeadership(GroupInput input);

  /**
   * Compare-and-sets the node (voter or learner) out of the group and drops its division. Not
   * being a member is done. Refuses to remove a group's last voter.
   */
  @ActivityMethod(name = "removeMember")
  GroupStep removeMember(GroupInput input);

  record MemberInput(long nodeId) {}

  /**
   * @param nodeState the node's NodeState name in the topology
   * @param listenAddr its NodeAdmin address
   * @param groups its role in every group 0..G
   */
  record MemberState(long clusterId, int dataGroups, String nodeState, String listenAddr, List<GroupRole> groups) {}

  /** A node's role in one group: {@link #VOTER}, {@link #LEARNER} or {@link #NONE}. */
  record GroupRole(int groupId, String role, long leader, List<Long> voters, List<Long> learners) {
    public static final String VOTER = "voter";
    public static final String LEARNER = "learner";
    public static final String NONE = "none";
  }

  record PromoteVoterInput(long nodeId, int groupId, int maxVoters) {}

  /**
   * @param state the NodeState name to set
   * @param from the states it may be set from (its current state included, to be idempotent)
   */
  record MemberStateInput(long nodeId, String state, List<String> from) {}

  record SettleInput(MemberStateInput state, String listenAddr) {}

  /** The cluster after setting the state, and what the broadcast that followed delivered (null: it failed). */
  record SettleResult(ClusterSnapshot persisted, BroadcastResult broadcast) {}

  /**
   * @param alreadyLeft the node is DECOMMISSIONED and in no group: nothing to do
   * @param groups the groups it is a member of (role voter or learner)
   */
  record LeavePlan(String listenAddr, String nodeState, boolean alreadyLeft, List<GroupRole> groups) {}
}
