package io.joinflow.gateway;

import io.grpc.StatusException;
import io.joinflow.proto.v1.LeaveRequest;
import io.joinflow.proto.v1.LeaveResponse;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.LeaveInput;
import io.joinflow.workflows.LeaveResult;
import io.joinflow.workflows.LeaveWorkflow;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Leave: starts (or attaches to) a node's leave workflow and answers with its result. */
final class Leaves {
  private static final Logger LOG = LoggerFactory.getLogger(Leaves.class);
  /** How long Leave waits for its workflow (its steps are bounded by a few minutes each). */
  private static final Duration LEAVE_WAIT = Duration.ofMinutes(10);

  private final WorkflowClient client;
  private final ClusterId clusterId;
  private final JoinOptions options;
  private final WorkflowWaits waits;

  Leaves(WorkflowClient client, ClusterId clusterId, JoinOptions options, WorkflowWaits waits) {
    this.client = client;
    this.clusterId = clusterId;
    this.options = options;
    this.waits = waits;
  }

  LeaveResponse leave(LeaveRequest request) throws StatusException {
    JoinRequests.requireNodeId(request.getNodeId());
    long cluster = clusterId.require();
    String workflowId = LeaveWorkflow.workflowId(cluster, request.getNodeId());
    WorkflowOptions wfOptions = WorkflowStarts.options(workflowId, request.getNodeId(), "leave-plan",
        "decommission node " + Long.toUnsignedString(request.getNodeId()) + " of cluster "
            + Long.toUnsignedString(cluster));
    WorkflowExecution execution;
    try {
      execution = WorkflowClient.start(client.newWorkflowStub(LeaveWorkflow.class, wfOptions)::leave,
          new LeaveInput(request.getNodeId(), cluster, options.fanOut()));
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      StatusException answer = TemporalFailures.toStatus(e, "start the leave workflow " + workflowId);
      LOG.warn("node {}: {}", Long.toUnsignedString(request.getNodeId()), answer.getStatus().getDescription());
      throw answer;
    }
    WorkflowStub stub = client.newUntypedWorkflowStub(workflowId, Optional.of(execution.getRunId()), Optional.empty());
    LeaveResult result = waits.awaitResult(stub, workflowId, LEAVE_WAIT.toMillis(), LeaveResult.class,
        request.getNodeId(), "Leave");
    if (!result.success() && !result.errorCode().isEmpty()) {
      throw JoinResponses.status(result.errorCode()).withDescription(result.error()).asException();
    }
    return JoinResponses.toProto(result, workflowId, execution.getRunId());
  }
}
