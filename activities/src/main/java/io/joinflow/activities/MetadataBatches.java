package io.joinflow.activities;

import io.joinflow.proto.v1.Batch;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.PutJoinRecord;
import io.joinflow.proto.v1.RemoveNode;
import io.joinflow.proto.v1.SetNodeState;
import io.joinflow.proto.v1.SetRouting;
import io.joinflow.proto.v1.UpsertNode;
import java.time.Clock;
import java.util.Objects;

/**
 * The group-0 commands the activities put in their batches. A batch is one entry: applied
 * entirely or not at all.
 */
final class MetadataBatches {
  private final Clock clock;

  /** @param clock stamps join records; activities may read the wall clock, workflows may not */
  MetadataBatches(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The join record of a node, stamped now. */
  MetadataCommand.Builder joinRecord(long nodeId, String workflowId, String phase, String outcome) {
    return MetadataCommand.newBuilder().setPutJoinRecord(PutJoinRecord.newBuilder().setRecord(JoinRecord.newBuilder()
        .setNodeId(nodeId).setWorkflowId(workflowId == null ? "" : workflowId).setPhase(phase).setOutcome(outcome)
        .setUpdatedAtMillis(clock.millis())));
  }

  static MetadataCommand.Builder upsert(NodeRecord node) {
    return MetadataCommand.newBuilder().setUpsertNode(UpsertNode.newBuilder().setNode(node));
  }

  static MetadataCommand.Builder setState(long nodeId, NodeState state) {
    return MetadataCommand.newBuilder().setSetNodeState(SetNodeState.newBuilder().setNodeId(nodeId).setState(state));
  }

  static MetadataCommand.Builder removeNode(long nodeId) {
    return MetadataCommand.newBuilder().setRemoveNode(RemoveNode.newBuilder().setNodeId(nodeId));
  }

  /** Publishes every group's live configuration (and leader) as its routing. */
  static Batch.Builder addRouting(Batch.Builder batch, ClusterView view) {
    for (GroupView g : view.getGroupsList()) {
      batch.addCommands(MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder().setRoute(
          GroupRoute.newBuilder().setGroupId(g.getGroupId()).addAllVoters(g.getVotersList())
              .addAllLearners(g.getLearnersList()).setLeaderHint(g.getLeader()))));
    }
    return batch;
  }
}
