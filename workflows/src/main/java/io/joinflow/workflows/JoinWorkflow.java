package io.joinflow.workflows;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The join of one node into the cluster, as a durable workflow with id
 * {@code join/<cluster_id>/<node_id>}. Steps: prepare (validate, registerPeer, admit),
 * addLearner and awaitLearner per group (in parallel, bounded by {@link JoinOptions#fanOut()}),
 * finish (persist, broadcast); joins that started before steps version 3 ran the five steps
 * in prepare and finish as activities of their own. A non-retryable rejection or the overall deadline makes it compensate in reverse
 * order (remove the learner from every group it may have reached, evict the node from the
 * topology, broadcast) and return {@code success=false} with the reason. A node that already
 * joined with the same address and incarnation gets its current state and nothing changes.
 *
 * <p>The implementation is deterministic: every side effect is an activity.
 */
@WorkflowInterface
public interface JoinWorkflow {
  /** The task queue join workflows and their activities run on. */
  String TASK_QUEUE = "joinflow-join";

  @WorkflowMethod
  JoinResult join(JoinInput input);

  /** Phase and per-group progress; answered from workflow state, never blocks. */
  @QueryMethod(description = "The join's phase (validate, registerPeer, admit, learners, persist, broadcast, done,"
      + " or rejected / compensating / compensated; a join of steps version 3 shows validate while it prepares and"
      + " persist while it finishes) and each group's state (pending, learner, caught-up, removed),"
      + " with the time of the last change and, once it ended, the outcome.")
  JoinProgress progress();

  /** The workflow id of a node's join: readable, and the same for every retry of the join. */
  static String workflowId(long clusterId, long nodeId) {
    return "join/" + Long.toUnsignedString(clusterId) + "/" + Long.toUnsignedString(nodeId);
  }
}
