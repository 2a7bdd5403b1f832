package io.joinflow.activities;

import static io.joinflow.activities.ClusterViews.findNode;
import static io.joinflow.activities.ClusterViews.requireLeaders;
import static io.joinflow.activities.ClusterViews.requireNode;
import static io.joinflow.activities.Heartbeats.keepAlive;
import static io.joinflow.activities.NodeAdminFailures.reject;
import static io.joinflow.activities.NodeAdminFailures.rpc;
import static io.joinflow.proto.ClusterViewFacts.group;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.ChangeMembershipResponse;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.DropGroupRequest;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.HandshakeRequest;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.SetMember;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.proto.v1.TransferLeadershipRequest;
import io.joinflow.proto.v1.TransferLeadershipResponse;
import io.joinflow.workflows.ClusterSnapshot;
import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.BroadcastResult;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.joinflow.workflows.MembershipActivities;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link MembershipActivities} over the cluster's NodeAdmin API: state-based like
 * {@link JoinActivitiesImpl}, every group-0 change one {@link Batch}, every failure typed by
 * {@link NodeAdminFailures}. Each step asks about every group (a promotion, a leave), so each
 * reads the full cluster view.
 */
public final class MembershipActivitiesImpl implements MembershipActivities {
  private static final Logger LOG = LoggerFactory.getLogger(MembershipActivitiesImpl.class);
  /** How long a voter's NodeAdmin may take to answer before planLeave counts it unreachable. */
  static final Duration REACH_DEADLINE = Duration.ofSeconds(2);

  private final NodeAdminPool pool;
  private final ActivitySettings settings;
  private final ClusterReads reads;
  private final LearnerCatchUp catchUp;
  private final TopologyBroadcast broadcast;

  public MembershipActivitiesImpl(NodeAdminPool pool) {
    this(pool, ActivitySettings.defaults());
  }

  public MembershipActivitiesImpl(NodeAdminPool pool, ActivitySettings settings) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.reads = new ClusterReads(pool);
    this.catchUp = new LearnerCatchUp(pool, settings);
    this.broadcast = new TopologyBroadcast(pool, reads, settings);
  }

  @Override
  public MemberState describeMember(MemberInput input) {
    ClusterView view = reads.view();
    NodeRecord node = requireNode(view.getNodesList(), input.nodeId());
    requireLeaders(view, "the roles of node " + input.nodeId() + " cannot be read from live configurations");
    return new MemberState(view.getClusterId(), view.getDataGroups(), node.getState().name(), node.getAddr(),
        roles(view, input.nodeId(), true));
  }

  @Override
  public GroupStep promoteVoter(PromoteVoterInput input) {
    ChangeMembershipRequest request = ChangeMembershipRequest.newBuilder().setGroupId(input.groupId())
        .setNodeId(input.nodeId()).setChange(MembershipChange.PROMOTE).setMaxVoters(Math.max(0, input.maxVoters()))
        .build();
    ChangeMembershipResponse r = rpc(() -> pool.call("promote node " + input.nodeId() + " in group "
        + input.groupId(), settings.membershipDeadline(), stub -> stub.changeMembership(request)));
    boolean voter = r.getVotersList().contains(input.nodeId());
    LOG.info("node {}: {} of group {}", input.nodeId(), voter ? (r.getChanged() ? "promoted to voter" : "already voter")
        : "stays learner (voter limit " + input.maxVoters() + " reached)", input.groupId());
    return new GroupStep(input.groupId(), r.getLeader(), List.copyOf(r.getVotersList()),
        List.copyOf(r.getLearnersList()), r.getChanged(), 0, 0);
  }

  @Override
  public GroupStep catchUpAndPromote(PromoteVoterInput input) {
    catchUp.await(new GroupInput(input.nodeId(), input.groupId()));
    return keepAlive(() -> promoteVoter(input));
  }

  @Override
  public SettleResult settleMember(SettleInput input) {
    return keepAlive(() -> {
      ClusterSnapshot persisted = setMemberState(input.state());
      BroadcastResult delivered;
      try {
        delivered = broadcast.broadcast(new BroadcastInput(input.state().nodeId(), input.listenAddr()));
      } catch (RuntimeException e) {
        // The state is set; a retry would only set it again. Receivers catch up from any later update.
        LOG.warn("node {}: broadcast after setting it {} failed: {}", input.state().nodeId(), input.state().state(),
            e.getMessage());
        delivered = null;
      }
      return new SettleResult(persisted, delivered);
    });
  }

  @Override
  public ClusterSnapshot setMemberState(MemberStateInput input) {
    long nodeId = input.nodeId();
    ClusterViews.requireNodeId(nodeId);
    SetMember.Builder change = SetMember.newBuilder().setNodeId(nodeId).setState(parseState(input.state()));
    if (input.from() != null) {
      input.from().forEach(from -> change.addFrom(parseState(from)));
    }
    // The node sets the state only from the allowed ones, and publishes the live configurations
    // as routing (UNAVAILABLE while a group has no leader).
    MetadataResult r = reads.change(TopologyChange.newBuilder().setSetMember(change).build());
    ClusterView after = reads.view();
    NodeRecord node = requireNode(after.getNodesList(), nodeId);
    if (!node.getState().name().equals(input.state())) {
      LOG.info("node {}: is {}, not setting it {} (allowed only from {})", nodeId, node.getState(), input.state(),
          input.from());
    }
    LOG.info("node {}: persisted as {} with routing of {} groups (topology version {})", nodeId, node.getState(),
        after.getGroupsCount(), r.getTopologyVersion());
    return ClusterViews.snapshot(after);
  }

  @Override
  public LeavePlan planLeave(MemberInput input) {
    long nodeId = input.nodeId();
    ClusterView view = reads.view();
    NodeRecord node = requireNode(view.getNodesList(), nodeId);
    if (node.getState() == NodeState.JOINING) {
      throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is still joining; let its join finish first");
    }
    requireLeaders(view, "cannot tell which groups node " + nodeId + " is a member of");
    List<GroupRole> member = roles(view, nodeId, false);
    if (member.isEmpty()) {
      return new LeavePlan(node.getAddr(), node.getState().name(), node.getState() == NodeState.DECOMMISSIONED,
          List.of());
    }
    Map<Long, Boolean> reachable = new HashMap<>();
    for (GroupRole g : member) {
      List<Long> remaining = new ArrayList<>(g.voters());
      remaining.remove(nodeId);
      if (g.role().equals(GroupRole.VOTER)) {
        if (remaining.isEmpty()) {
          throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is the only voter of group " + g.groupId()
              + "; removing it would leave the group without voters (promote another node first)");
        }
        List<Long> up = remaining.stream().filter(v -> reachable.computeIfAbsent(v, id -> reachable(view, id)))
            .toList();
        int quorum = remaining.size() / 2 + 1;
        if (up.size() < quorum) {
          throw reject(Status.FAILED_PRECONDITION, "removing node " + nodeId + " from group " + g.groupId()
              + " would leave voters " + remaining + " of which only " + up + " are reachable, fewer than the "
              + quorum + " a quorum needs; bring the others back first");
        }
      }
      for (long learner : g.learners()) {
        if (learner != nodeId && !reachable.computeIfAbsent(learner, id -> reachable(view, id))) {
          // Ratis stages every listener of the new conf: a dead one stalls the change until it
          // times out (RATIS.md), with the node already DRAINING.
          throw reject(Status.FAILED_PRECONDITION, "learner " + learner + " of group " + g.groupId()
              + " is unreachable and would stall every configuration change of that group; bring it back or"
              + " remove it first");
        }
      }
    }
    LOG.info("node {}: may leave groups {}", nodeId, member.stream().map(GroupRole::groupId).toList());
    return new LeavePlan(node.getAddr(), node.getState().name(), false, member);
  }

  @Override
  public GroupStep moveLeadership(GroupInput input) {
    TransferLeadershipRequest request = TransferLeadershipRequest.newBuilder().setGroupId(input.groupId())
        .setAwayFrom(input.nodeId()).build();
    TransferLeadershipResponse r = rpc(() -> pool.call("move leadership of group " + input.groupId()
        + " away from node " + input.nodeId(), stub -> stub.transferLeadership(request)));
    if (r.getTransferred()) {
      LOG.info("node {}: leadership of group {} moved to node {}", input.nodeId(), input.groupId(), r.getLeader());
    }
    return new GroupStep(input.groupId(), r.getLeader(), List.of(), List.of(), r.getTransferred(), 0, 0);
  }

  @Override
  public GroupStep removeMember(GroupInput input) {
    long nodeId = input.nodeId();
    int group = input.groupId();
    ChangeMembershipRequest request = ChangeMembershipRequest.newBuilder().setGroupId(group).setNodeId(nodeId)
        .setChange(MembershipChange.REMOVE).build();
    ChangeMembershipResponse r = rpc(() -> pool.call("remove node " + nodeId + " from group " + group,
        settings.membershipDeadline(), stub -> stub.changeMembership(request)));
    // REMOVE drops the division itself; a division left by a crash between the CAS and the
    // drop is dropped here on the re-run (where REMOVE has nothing left to change).
    DropGroupRequest drop = DropGroupRequest.newBuilder().setGroupId(group).setNodeId(nodeId).build();
    try {
      pool.call("drop group " + group + " on node " + nodeId, stub -> stub.dropGroup(drop));
    } catch (StatusRuntimeException e) {
      LOG.info("node {}: could not drop its division of group {} ({}); it is out of the configuration",
          nodeId, group, e.getStatus());
    }
    LOG.info("node {}: out of group {} ({})", nodeId, group, r.getChanged() ? "removed" : "was not a member");
    return new GroupStep(group, r.getLeader(), List.copyOf(r.getVotersList()), List.copyOf(r.getLearnersList()),
        r.getChanged(), 0, 0);
  }

  /** True when the node's NodeAdmin answers a handshake in time. */
  private boolean reachable(ClusterView view, long nodeId) {
    NodeRecord n = findNode(view.getNodesList(), nodeId);
    if (n == null) {
      return false;
    }
    try {
      pool.callAt(n.getAddr(), "reach node " + nodeId, REACH_DEADLINE,
          stub -> stub.handshake(HandshakeRequest.newBuilder().setExpectedNodeId(nodeId).build()));
      return true;
    } catch (StatusRuntimeException e) {
      LOG.info("node {}: unreachable at {}: {}", nodeId, n.getAddr(), e.getStatus());
      return false;
    }
  }

  /** The node's role in every group (or only those it is a member of). */
  private static List<GroupRole> roles(ClusterView view, long nodeId, boolean all) {
    List<GroupRole> out = new ArrayList<>();
    for (int g = 0; g <= view.getDataGroups(); g++) {
      GroupView gv = group(view, g).orElse(GroupView.newBuilder().setGroupId(g).build());
      String role = gv.getVotersList().contains(nodeId) ? GroupRole.VOTER
          : gv.getLearnersList().contains(nodeId) ? GroupRole.LEARNER : GroupRole.NONE;
      if (all || !role.equals(GroupRole.NONE)) {
        out.add(new GroupRole(g, role, gv.getLeader(), List.copyOf(gv.getVotersList()),
            List.copyOf(gv.getLearnersList())));
      }
    }
    return out;
  }

  private static NodeState parseState(String state) {
    try {
      return NodeState.valueOf(state);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw reject(Status.INVALID_ARGUMENT, "unknown node state '" + state + "'");
    }
  }

}
