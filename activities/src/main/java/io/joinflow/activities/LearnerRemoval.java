package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.reject;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.ClusterViewFacts;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.ChangeMembershipResponse;
import io.joinflow.proto.v1.DropGroupRequest;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A join's compensation of addLearner in one group. It reads that group and the topology only:
 * whether the node is a voter or learner of another group does not decide this one.
 */
final class LearnerRemoval {
  private static final Logger LOG = LoggerFactory.getLogger(LearnerRemoval.class);

  private final NodeAdminPool pool;
  private final ClusterReads reads;
  private final ActivitySettings settings;

  LearnerRemoval(NodeAdminPool pool, ClusterReads reads, ActivitySettings settings) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.reads = Objects.requireNonNull(reads, "reads");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** See {@link JoinActivitiesImpl#removeLearner}. */
  GroupStep remove(GroupInput input) {
    long nodeId = input.nodeId();
    int group = input.groupId();
    GroupView before = reads.group(group);
    if (before.getVotersList().contains(nodeId)) {
      ClusterViews.requireLeaders(List.of(before), "cannot tell whether node " + nodeId + " is a voter of group "
          + group);
      throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is a voter of group " + group
          + "; a join's compensation removes learners only (remove a voter by decommissioning it)");
    }
    if (ClusterViews.findNode(reads.metadata().getNodesList(), nodeId) == null) {
      return alreadyRemoved(nodeId, before);
    }
    GroupStep step;
    try {
      ChangeMembershipRequest request = ChangeMembershipRequest.newBuilder().setGroupId(group)
          .setNodeId(nodeId).setChange(MembershipChange.REMOVE_LEARNER).build();
      ChangeMembershipResponse r = pool.call("remove node " + nodeId + " from group " + group,
          settings.membershipDeadline(), stub -> stub.changeMembership(request));
      step = new GroupStep(group, r.getLeader(), List.copyOf(r.getVotersList()), List.copyOf(r.getLearnersList()),
          r.getChanged(), 0, 0);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw NodeAdminFailures.of(e);
      }
      // Evicted between the read and the call (a compensation running twice at once).
      if (ClusterViews.findNode(reads.metadata().getNodesList(), nodeId) != null) {
        throw NodeAdminFailures.of(e);
      }
      return alreadyRemoved(nodeId, reads.group(group));
    }
    // REMOVE drops the division itself; this also drops one left by an add whose CAS never
    // committed, which REMOVE (nothing to change) would not touch.
    DropGroupRequest drop = DropGroupRequest.newBuilder().setGroupId(group).setNodeId(nodeId).build();
    try {
      pool.call("drop group " + group + " on node " + nodeId, stub -> stub.dropGroup(drop));
    } catch (StatusRuntimeException e) {
      LOG.info("node {}: could not drop its division of group {} ({}); it is out of the configuration",
          nodeId, group, e.getStatus());
    }
    LOG.info("node {}: out of group {} ({})", nodeId, group, step.changed() ? "removed" : "was not a member");
    return step;
  }

  /**
   * The node is no longer in the topology (a compensation that ran before): the removal is
   * done, unless the group's configuration still lists it, which nobody can fix by address.
   */
  private static GroupStep alreadyRemoved(long nodeId, GroupView g) {
    if (ClusterViewFacts.isMember(g, nodeId)) {
      throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is still in the configuration of group "
          + g.getGroupId() + " but no longer in the topology, so no node can address it; admit it again,"
          + " then remove it");
    }
    LOG.info("node {}: in neither the topology nor group {}; nothing to remove", nodeId, g.getGroupId());
    return new GroupStep(g.getGroupId(), g.getLeader(), List.copyOf(g.getVotersList()),
        List.copyOf(g.getLearnersList()), false, 0, 0);
  }
}
