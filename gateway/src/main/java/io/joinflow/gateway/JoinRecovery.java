package io.joinflow.gateway;

import io.grpc.StatusException;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.workflows.JoinInput;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.JoinWorkflow;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts again the joins whose workflow was lost. Group 0 holds a record of every join from
 * its admission on, and the record gets an outcome when the join succeeds or is compensated. A
 * record without an outcome whose workflow Temporal does not know (the embedded server keeps
 * workflows in memory only) is a join nobody will ever finish or undo: the node would stay
 * JOINING, perhaps a learner of some groups. Such a join is started again under the same
 * workflow id with the input its record and the node's topology entry give (node id, listen
 * address, wire version, cluster id); every step is state-based, so the new run finishes the
 * join or compensates it, also when the node died meanwhile.
 */
final class JoinRecovery {
  private static final Logger LOG = LoggerFactory.getLogger(JoinRecovery.class);
  /** The memo key of a run started by recovery; its value says what the gateway found. */
  static final String MEMO_KEY = "recovered";

  private final WorkflowClient client;
  private final ClusterMetadataSource cluster;
  private final JoinOptions options;

  JoinRecovery(WorkflowClient client, ClusterMetadataSource cluster, JoinOptions options) {
    this.client = client;
    this.cluster = cluster;
    this.options = options;
  }

  /**
   * Scans group 0's join records once and starts every lost join again. A join whose workflow
   * still exists is left to it, even when that workflow closed without recording an outcome
   * (that is logged: only an operator can tell why).
   *
   * @return the joins started again
   * @throws StatusException UNAVAILABLE when the cluster or Temporal cannot be asked, or
   *     FAILED_PRECONDITION when Temporal refuses the request (its setup needs fixing); nothing
   *     was started for the records not reached yet, and scanning again is safe
   */
  List<RecoveredJoin> run() throws StatusException {
    MetadataState state = cluster.metadata();
    List<RecoveredJoin> recovered = new ArrayList<>();
    if (state.getClusterId() == 0) {
      return recovered;
    }
    for (JoinRecord record : state.getJoinsList()) {
      if (!record.getOutcome().isEmpty()) {
        continue;
      }
      String workflowId = record.getWorkflowId().isEmpty()
          ? JoinWorkflow.workflowId(state.getClusterId(), record.getNodeId())
          : record.getWorkflowId();
      if (exists(workflowId, record)) {
        continue;
      }
      NodeRecord node = state.getNodesList().stream().filter(n -> n.getNodeId() == record.getNodeId())
          .findFirst().orElse(null);
      if (node == null) {
        // Admission writes the topology entry and the record in one entry, and eviction
        // removes the entry while it sets the outcome: this takes a hand-edited group 0.
        LOG.warn("node {}: join record of {} is pending (phase {}) but the node is not in the topology, so its"
            + " address is unknown; not starting it again. Join the node again from its address.",
            record.getNodeId(), workflowId, record.getPhase());
        continue;
      }
      recovered.add(start(state.getClusterId(), workflowId, record, node));
    }
    return recovered;
  }

  private boolean exists(String workflowId, JoinRecord record) throws StatusException {
    WorkflowExecutionDescription d;
    try {
      d = client.newUntypedWorkflowStub(workflowId).describe();
    } catch (WorkflowNotFoundException e) {
      return false;
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      throw TemporalFailures.toStatus(e, "ask Temporal about " + workflowId);
    }
    if (d.getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      LOG.warn("node {}: join record is pending (phase {}) but {} run {} ended as {}; not starting it again."
          + " Join the node again to finish or undo it.", record.getNodeId(), record.getPhase(), workflowId,
          d.getExecution().getRunId(), d.getStatus());
    }
    return true;
  }

  private RecoveredJoin start(long clusterId, String workflowId, JoinRecord record, NodeRecord node)
      throws StatusException {
    long nodeId = record.getNodeId();
    String reason = "workflow " + workflowId + " was lost while group 0 recorded the join as pending (phase "
        + record.getPhase() + ", node " + node.getState() + ")";
    WorkflowOptions wfOptions = WorkflowOptions.newBuilder(WorkflowStarts.options(workflowId, nodeId,
            "validate", "join node " + Long.toUnsignedString(nodeId) + " at " + node.getAddr() + " into cluster "
                + Long.toUnsignedString(clusterId) + " (recovered: its workflow was lost)"))
        .setMemo(Map.of(MEMO_KEY, reason, WorkflowStarts.LISTEN_ADDR_MEMO, node.getAddr()))
        .build();
    // A run that gives up early (its node died meanwhile) undoes every group, also those the
    // lost run reached and this one did not (join steps version 2).
    JoinInput input = new JoinInput(nodeId, node.getAddr(), node.getWireVersion() == 0 ? 1 : node.getWireVersion(),
        clusterId, options);
    WorkflowExecution execution;
    try {
      execution = WorkflowClient.start(client.newWorkflowStub(JoinWorkflow.class, wfOptions)::join, input);
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      throw TemporalFailures.toStatus(e, "start " + workflowId + " again");
    }
    LOG.info("node {}: recovered join: {}; started run {} again from {}", nodeId, reason, execution.getRunId(),
        node.getAddr());
    return new RecoveredJoin(nodeId, clusterId, workflowId, execution.getRunId(), reason);
  }

  /**
   * A join started again.
   *
   * @param reason what the gateway found, as the run's memo and GetJoin's {@code recovered} say
   */
  record RecoveredJoin(long nodeId, long clusterId, String workflowId, String runId, String reason) {}
}
