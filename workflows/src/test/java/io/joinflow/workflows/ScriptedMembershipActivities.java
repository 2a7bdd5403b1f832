package io.joinflow.workflows;

import static io.joinflow.workflows.ScriptedJoinActivities.CLUSTER_ID;
import static io.joinflow.workflows.ScriptedJoinActivities.NODE;
import static io.joinflow.workflows.ScriptedJoinActivities.NODE_ADDR;
import static io.joinflow.workflows.ScriptedJoinActivities.SEED;

import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Membership activities of a small in-memory cluster: node 1 (the seed) votes in every group
 * and node 4 ({@link ScriptedJoinActivities#NODE}) starts as a learner (promotion) or as a
 * voter that leads every group (leave). Thread-safe: activities run on several worker threads.
 */
final class ScriptedMembershipActivities implements MembershipActivities {
  private final int dataGroups;
  private final Map<Integer, List<Long>> voters = new TreeMap<>();
  private final Map<Integer, List<Long>> learners = new TreeMap<>();
  private final Map<Integer, Long> leaders = new TreeMap<>();
  private String nodeState;
  private ApplicationFailure planRefusal;
  /** Answers catchUpAndPromote's wait and settleMember's broadcast, as the worker's join activities would. */
  private JoinActivities join = new ScriptedJoinActivities(0);

  /** Node 4 learner of every group (LEARNER), as a join leaves it. */
  static ScriptedMembershipActivities joined(int dataGroups) {
    ScriptedMembershipActivities c = new ScriptedMembershipActivities(dataGroups, "LEARNER");
    for (int g = 0; g <= dataGroups; g++) {
      c.voters.put(g, new ArrayList<>(List.of(SEED)));
      c.learners.put(g, new ArrayList<>(List.of(NODE)));
      c.leaders.put(g, SEED);
    }
    return c;
  }

  /** Node 4 voter and leader of every group (ACTIVE) beside node 1 and node 2. */
  static ScriptedMembershipActivities promoted(int dataGroups) {
    ScriptedMembershipActivities c = new ScriptedMembershipActivities(dataGroups, "ACTIVE");
    for (int g = 0; g <= dataGroups; g++) {
      c.voters.put(g, new ArrayList<>(List.of(SEED, 2L, NODE)));
      c.learners.put(g, new ArrayList<>());
      c.leaders.put(g, NODE);
    }
    return c;
  }

  private ScriptedMembershipActivities(int dataGroups, String nodeState) {
    this.dataGroups = dataGroups;
    this.nodeState = nodeState;
  }

  /** Makes planLeave refuse with this (non-retryable) failure. */
  ScriptedMembershipActivities refuseLeave(String message) {
    planRefusal = ApplicationFailure.newNonRetryableFailure(message, JoinFailures.FAILED_PRECONDITION);
    return this;
  }

  /** Waits and broadcasts through {@code join} (e.g. with its scripted failures). */
  ScriptedMembershipActivities joinActivities(JoinActivities join) {
    this.join = join;
    return this;
  }

  synchronized String nodeState() {
    return nodeState;
  }

  synchronized List<Long> voters(int group) {
    return List.copyOf(voters.get(group));
  }

  @Override
  public synchronized MemberState describeMember(MemberInput input) {
    List<GroupRole> roles = new ArrayList<>();
    for (int g = 0; g <= dataGroups; g++) {
      roles.add(role(g, input.nodeId()));
    }
    return new MemberState(CLUSTER_ID, dataGroups, nodeState, NODE_ADDR, roles);
  }

  @Override
  public synchronized GroupStep promoteVoter(PromoteVoterInput input) {
    int g = input.groupId();
    List<Long> v = voters.get(g);
    List<Long> l = learners.get(g);
    boolean changed = false;
    if (!v.contains(input.nodeId())) {
      if (!l.contains(input.nodeId())) {
        throw ApplicationFailure.newNonRetryableFailure("node " + input.nodeId() + " is not a learner of group " + g,
            JoinFailures.FAILED_PRECONDITION);
      }
      if (input.maxVoters() == 0 || v.size() < input.maxVoters()) {
        l.remove(input.nodeId());
        v.add(input.nodeId());
        changed = true;
      }
    }
    return step(g, changed);
  }

  @Override
  public GroupStep catchUpAndPromote(PromoteVoterInput input) {
    // Not synchronized: the wait must not hold up the other groups.
    join.awaitLearner(new GroupInput(input.nodeId(), input.groupId()));
    return promoteVoter(input);
  }

  @Override
  public SettleResult settleMember(SettleInput input) {
    ClusterSnapshot persisted = setMemberState(input.state());
    return new SettleResult(persisted, join.broadcast(new BroadcastInput(input.state().nodeId(), input.listenAddr())));
  }

  @Override
  public synchronized ClusterSnapshot setMemberState(MemberStateInput input) {
    if (input.from().contains(nodeState)) {
      nodeState = input.state();
    }
    return snapshot();
  }

  @Override
  public synchronized LeavePlan planLeave(MemberInput input) {
    if (planRefusal != null) {
      throw planRefusal;
    }
    List<GroupRole> member = new ArrayList<>();
    for (int g = 0; g <= dataGroups; g++) {
      GroupRole r = role(g, input.nodeId());
      if (!r.role().equals(GroupRole.NONE)) {
        member.add(r);
      }
    }
    return new LeavePlan(NODE_ADDR, nodeState, member.isEmpty() && nodeState.equals("DECOMMISSIONED"), member);
  }

  @Override
  public synchronized GroupStep moveLeadership(GroupInput input) {
    int g = input.groupId();
    boolean moved = leaders.get(g) == input.nodeId();
    if (moved) {
      leaders.put(g, SEED);
    }
    return new GroupStep(g, leaders.get(g), List.of(), List.of(), moved, 0, 0);
  }

  @Override
  public synchronized GroupStep removeMember(GroupInput input) {
    int g = input.groupId();
    boolean changed = voters.get(g).remove(input.nodeId()) | learners.get(g).remove(input.nodeId());
    return step(g, changed);
  }

  private GroupRole role(int g, long nodeId) {
    String role = voters.get(g).contains(nodeId) ? GroupRole.VOTER
        : learners.get(g).contains(nodeId) ? GroupRole.LEARNER : GroupRole.NONE;
    return new GroupRole(g, role, leaders.get(g), List.copyOf(voters.get(g)), List.copyOf(learners.get(g)));
  }

  private GroupStep step(int g, boolean changed) {
    return new GroupStep(g, leaders.get(g), List.copyOf(voters.get(g)), List.copyOf(learners.get(g)), changed, 0, 0);
  }

  private ClusterSnapshot snapshot() {
    List<ClusterSnapshot.GroupInfo> groups = new ArrayList<>();
    List<Integer> ofNode = new ArrayList<>();
    for (int g = 0; g <= dataGroups; g++) {
      groups.add(new ClusterSnapshot.GroupInfo(g, leaders.get(g), List.copyOf(voters.get(g)),
          List.copyOf(learners.get(g))));
      if (voters.get(g).contains(NODE) || learners.get(g).contains(NODE)) {
        ofNode.add(g);
      }
    }
    return new ClusterSnapshot(CLUSTER_ID, 3, dataGroups, List.of(
        new ClusterSnapshot.NodeInfo(SEED, "127.0.0.1:7001", "ACTIVE", List.of(), 1),
        new ClusterSnapshot.NodeInfo(NODE, NODE_ADDR, nodeState, ofNode, 1)), groups);
  }

  /** Group input helper for verifications. */
  static GroupInput group(int g) {
    return new GroupInput(NODE, g);
  }
}
