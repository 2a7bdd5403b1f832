package io.joinflow.workflows;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The decommissioning of a node, the mirror image of join and promotion, as a durable workflow
 * with id {@code leave/<cluster_id>/<node_id>}: plan (refuse, changing nothing, when a group
 * would lose its quorum), mark the node DRAINING, per group move its leadership away and
 * compare-and-set it out (which drops its division) — data groups in parallel, group 0 last —
 * then mark it DECOMMISSIONED, persist routing and broadcast. Every step is state-based, so a
 * leave interrupted by a crash resumes by running it again; a node that already left is
 * answered with {@code alreadyLeft=true}. A decommissioned node keeps its record in the
 * topology (state DECOMMISSIONED) and never rejoins by itself.
 */
@WorkflowInterface
public interface LeaveWorkflow {

  @WorkflowMethod
  LeaveResult leave(LeaveInput input);

  @QueryMethod(description = "The leave's phase (plan, drain, groups, persist, broadcast, done, refused) and each"
      + " group's state as the node leaves it.")
  JoinProgress progress();

  static String workflowId(long clusterId, long nodeId) {
    return "leave/" + Long.toUnsignedString(clusterId) + "/" + Long.toUnsignedString(nodeId);
  }
}
