package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.v1.GroupProgress;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.ListJoinsResponse;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.workflows.JoinWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowStub;

/**
 * GetJoin and ListJoins: a join's progress from its workflow (or, once Temporal forgot it, from
 * its record in group 0), and every join group 0 and Temporal's visibility know.
 */
final class JoinQueries {
  private final WorkflowClient client;
  private final ClusterMetadataSource source;
  private final ClusterId clusterId;
  private final TemporalEndpoint temporal;

  JoinQueries(WorkflowClient client, ClusterMetadataSource source, ClusterId clusterId, TemporalEndpoint temporal) {
    this.client = client;
    this.source = source;
    this.clusterId = clusterId;
    this.temporal = temporal;
  }

  /**
   * The node's join as its workflow's {@code progress} query answers, with group 0's record.
   *
   * @throws io.temporal.client.WorkflowException when Temporal cannot be asked
   */
  JoinProgress join(long nodeId) throws StatusException {
    MetadataState state = source.metadata();
    String workflowId = JoinWorkflow.workflowId(clusterId.of(state), nodeId);
    JoinRecord record = state.getJoinsList().stream()
        .filter(j -> j.getNodeId() == nodeId).findFirst().orElse(null);
    JoinProgress.Builder b = JoinProgress.newBuilder().setWorkflowId(workflowId).setNodeId(nodeId)
        .setTemporal(temporal.toProto());
    if (record != null) {
      b.setRecord(record);
    }
    try {
      WorkflowStub stub = client.newUntypedWorkflowStub(workflowId);
      io.joinflow.workflows.JoinProgress p = stub.query("progress", io.joinflow.workflows.JoinProgress.class);
      // A stub made from an id alone learns its run only by asking.
      WorkflowExecutionDescription d = stub.describe();
      Object recovered = d.getMemo(JoinRecovery.MEMO_KEY, String.class);
      if (recovered != null) {
        b.setRecovered(recovered.toString());
      }
      temporal.workflowUrl(workflowId, d.getExecution().getRunId()).ifPresent(b::setUiUrl);
      b.setRunId(d.getExecution().getRunId())
          .setPhase(p.phase())
          .setStartedAtMillis(p.startedAtMillis())
          .setUpdatedAtMillis(p.updatedAtMillis())
          .setOutcome(p.outcome() == null ? "" : p.outcome());
      for (io.joinflow.workflows.JoinProgress.GroupProgress g : p.groups()) {
        b.addGroups(GroupProgress.newBuilder().setGroupId(g.groupId()).setState(g.state())
            .setUpdatedAtMillis(g.updatedAtMillis()));
      }
    } catch (WorkflowNotFoundException e) {
      if (record == null) {
        throw Status.NOT_FOUND.withDescription("no join of node " + nodeId + " is known").asException();
      }
      b.setPhase(record.getPhase()).setOutcome(record.getOutcome());
    }
    return b.build();
  }

  /** Group 0's join records, and every join run when Temporal can list workflows. */
  ListJoinsResponse list() throws StatusException {
    ListJoinsResponse.Builder b = ListJoinsResponse.newBuilder().addAllJoins(source.metadata().getJoinsList())
        .setTemporal(temporal.toProto())
        .setSource("group0");
    if (temporal.listsWorkflows()) {
      b.addAllRuns(JoinListing.runs(client, temporal)).setSource("temporal");
    }
    return b.build();
  }
}
