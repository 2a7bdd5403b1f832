package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.v1.ControlPromotionRequest;
import io.joinflow.proto.v1.PromotionProgress;
import io.joinflow.workflows.ClusterSnapshot;
import io.joinflow.workflows.PromoteInput;
import io.joinflow.workflows.PromoteOptions;
import io.joinflow.workflows.PromoteProgress;
import io.joinflow.workflows.PromoteWorkflow;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A joined node's promotion workflow: started after its join, steered and read by operators. */
final class Promotions {
  private static final Logger LOG = LoggerFactory.getLogger(Promotions.class);

  private final WorkflowClient client;
  private final ClusterId clusterId;
  private final PromoteOptions options;
  private final TemporalEndpoint temporal;

  Promotions(WorkflowClient client, ClusterId clusterId, PromoteOptions options, TemporalEndpoint temporal) {
    this.client = client;
    this.clusterId = clusterId;
    this.options = options;
    this.temporal = temporal;
  }

  /**
   * Starts the node's promotion, or attaches to the one running (USE_EXISTING). A node that is
   * already a voter everywhere makes it finish at once. A failure to start is logged, not
   * returned: the join itself succeeded, and the next Join of the node starts it again.
   *
   * @param joined the cluster as the node's join just left it (its result), so the promotion
   *     need not read the node's membership again; null when it is not that fresh (an earlier
   *     run's result): the promotion describes the node first
   */
  void start(long clusterId, long nodeId, ClusterSnapshot joined) {
    String workflowId = PromoteWorkflow.workflowId(clusterId, nodeId);
    WorkflowOptions wfOptions = WorkflowStarts.options(workflowId, nodeId, "promote-describe",
        "promote node " + Long.toUnsignedString(nodeId) + " to voter in cluster "
            + Long.toUnsignedString(clusterId));
    try {
      WorkflowExecution e = WorkflowClient.start(client.newWorkflowStub(PromoteWorkflow.class, wfOptions)::promote,
          new PromoteInput(nodeId, clusterId, options, PromoteInput.membershipOf(joined, nodeId)));
      LOG.info("node {}: promotion {} run {}", nodeId, workflowId, e.getRunId());
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      LOG.warn("node {}: {}; join the node again to retry", Long.toUnsignedString(nodeId),
          TemporalFailures.toStatus(e, "start " + workflowId).getStatus().getDescription());
    }
  }

  /** Pauses, resumes or hurries the node's running promotion; answers its progress after. */
  PromotionProgress control(ControlPromotionRequest request) throws StatusException {
    String signal = switch (request.getAction()) {
      case PAUSE -> "pause";
      case RESUME -> "resume";
      case PROMOTE_NOW -> "promoteNow";
      default -> throw Status.INVALID_ARGUMENT.withDescription("action must be PAUSE, RESUME or PROMOTE_NOW")
          .asException();
    };
    WorkflowStub stub = stub(request.getNodeId());
    try {
      stub.signal(signal);
    } catch (WorkflowNotFoundException e) {
      throw Status.NOT_FOUND.withDescription("no promotion of node " + request.getNodeId() + " is running")
          .asException();
    }
    return progress(stub, request.getNodeId());
  }

  /** The node's promotion as its {@code progress} query answers. */
  PromotionProgress get(long nodeId) throws StatusException {
    return progress(stub(nodeId), nodeId);
  }

  private WorkflowStub stub(long nodeId) throws StatusException {
    JoinRequests.requireNodeId(nodeId);
    return client.newUntypedWorkflowStub(PromoteWorkflow.workflowId(clusterId.require(), nodeId));
  }

  private PromotionProgress progress(WorkflowStub stub, long nodeId) throws StatusException {
    try {
      PromoteProgress p = stub.query("progress", PromoteProgress.class);
      WorkflowExecution execution = stub.describe().getExecution();
      PromotionProgress proto = JoinResponses.toProto(p, execution.getWorkflowId(), execution.getRunId());
      return temporal.workflowUrl(execution.getWorkflowId(), execution.getRunId())
          .map(u -> proto.toBuilder().setUiUrl(u).build()).orElse(proto);
    } catch (WorkflowNotFoundException e) {
      throw Status.NOT_FOUND.withDescription("no promotion of node " + nodeId + " is known").asException();
    }
  }
}
