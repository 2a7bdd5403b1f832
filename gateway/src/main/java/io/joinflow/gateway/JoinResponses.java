package io.joinflow.gateway;

import io.grpc.Status;
import io.joinflow.proto.v1.GroupInfo;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.NodeInfo;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.workflows.ClusterSnapshot;
import io.joinflow.workflows.JoinFailures;
import io.joinflow.workflows.JoinResult;
import io.joinflow.workflows.LeaveResult;
import io.joinflow.workflows.PromoteProgress;
import io.joinflow.proto.v1.GroupPromotion;
import io.joinflow.proto.v1.LeaveResponse;
import io.joinflow.proto.v1.PromotionProgress;

/** Translations between the workflow's result and the wire: NodeDB's JoinResponse and statuses. */
final class JoinResponses {
  private JoinResponses() {}

  static JoinResponse toProto(JoinResult r, String workflowId, String runId) {
    ClusterSnapshot c = r.cluster() == null ? ClusterSnapshot.empty() : r.cluster();
    JoinResponse.Builder b = JoinResponse.newBuilder()
        .setSuccess(r.success())
        .setError(r.error() == null ? "" : r.error())
        .setClusterId(r.success() ? c.clusterId() : 0)
        .setWorkflowId(workflowId)
        .setRunId(runId == null ? "" : runId)
        .setAlreadyJoined(r.alreadyJoined());
    for (ClusterSnapshot.NodeInfo n : c.nodes()) {
      NodeInfo.Builder nb = NodeInfo.newBuilder().setNodeId(n.nodeId()).setAddr(n.addr())
          .setState(NodeState.valueOf(n.state())).setWireVersion(n.wireVersion());
      n.raftGroups().forEach(g -> nb.addRaftGroups(g));
      b.addNodes(nb);
    }
    if (r.success()) {
      JoinResult.vshardToGroup(c.dataGroups()).forEach(g -> b.addVshardToGroup(g));
    }
    for (ClusterSnapshot.GroupInfo g : c.groups()) {
      b.addGroups(GroupInfo.newBuilder().setGroupId(g.groupId()).setLeader(g.leader())
          .addAllMembers(g.voters()).addAllLearners(g.learners()));
    }
    return b.build();
  }

  static LeaveResponse toProto(LeaveResult r, String workflowId, String runId) {
    LeaveResponse.Builder b = LeaveResponse.newBuilder()
        .setSuccess(r.success())
        .setError(r.error() == null ? "" : r.error())
        .setWorkflowId(workflowId)
        .setRunId(runId == null ? "" : runId)
        .setAlreadyLeft(r.alreadyLeft());
    r.removedFrom().forEach(b::addRemovedFrom);
    r.leadershipMoved().forEach(b::addLeadershipMoved);
    ClusterSnapshot c = r.cluster() == null ? ClusterSnapshot.empty() : r.cluster();
    for (ClusterSnapshot.GroupInfo g : c.groups()) {
      b.addGroups(GroupInfo.newBuilder().setGroupId(g.groupId()).setLeader(g.leader())
          .addAllMembers(g.voters()).addAllLearners(g.learners()));
    }
    return b.build();
  }

  static PromotionProgress toProto(PromoteProgress p, String workflowId, String runId) {
    PromotionProgress.Builder b = PromotionProgress.newBuilder()
        .setWorkflowId(workflowId)
        .setRunId(runId == null ? "" : runId)
        .setNodeId(p.nodeId())
        .setPhase(p.phase())
        .setPaused(p.paused())
        .setPromoteNow(p.promoteNow())
        .setOutcome(p.outcome() == null ? "" : p.outcome())
        .setDone(p.done());
    for (PromoteProgress.GroupPromotion g : p.groups()) {
      b.addGroups(GroupPromotion.newBuilder().setGroupId(g.groupId()).setState(g.state())
          .setDetail(g.detail() == null ? "" : g.detail()).setUpdatedAtMillis(g.updatedAtMillis()));
    }
    return b.build();
  }

  /** The status of a rejected request (an activity's non-retryable failure type), or null. */
  static Status rejection(JoinResult r) {
    if (r.success() || r.errorCode() == null || r.errorCode().isEmpty()) {
      return null;
    }
    return status(r.errorCode()).withDescription(r.error());
  }

  /** The status of a {@link JoinFailures} type. */
  static Status status(String errorCode) {
    return switch (errorCode) {
      case JoinFailures.INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case JoinFailures.ALREADY_EXISTS -> Status.ALREADY_EXISTS;
      case JoinFailures.FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case JoinFailures.NOT_FOUND -> Status.NOT_FOUND;
      default -> Status.UNKNOWN;
    };
  }
}
