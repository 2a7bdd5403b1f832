package io.joinflow.gateway;

import io.joinflow.workflows.JoinSearchAttributes;
import io.joinflow.workflows.JoinWorkflow;
import io.joinflow.workflows.Summaries;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.SearchAttributes;

/** How the gateway starts a workflow about a node: join, promotion or leave. */
final class WorkflowStarts {
  /** Memo of a join workflow: the canonical listen address the join was started for. */
  static final String LISTEN_ADDR_MEMO = "listen_addr";

  private WorkflowStarts() {}

  /**
   * Options every workflow this gateway starts shares: the workflow id is per node, and a
   * repeated request attaches to the running workflow (USE_EXISTING) instead of racing it.
   */
  static WorkflowOptions options(String workflowId, long nodeId, String phase, String summary) {
    return WorkflowOptions.newBuilder()
        .setWorkflowId(workflowId)
        .setTaskQueue(JoinWorkflow.TASK_QUEUE)
        .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
        .setTypedSearchAttributes(SearchAttributes.newBuilder()
            .set(JoinSearchAttributes.NODE_ID, nodeId)
            .set(JoinSearchAttributes.PHASE, phase)
            .build())
        .setStaticSummary(Summaries.fit(summary))
        .build();
  }
}
