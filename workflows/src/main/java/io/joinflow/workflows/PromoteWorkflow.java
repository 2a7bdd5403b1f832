package io.joinflow.workflows;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The promotion of a joined node from learner to voter, as a durable workflow with id
 * {@code promote/<cluster_id>/<node_id>}, started by a successful join (W8: promotion is no
 * longer a fire-and-forget tick). Per group, in parallel (bounded by
 * {@link PromoteOptions#fanOut()}): wait until the learner caught up, wait the stabilization
 * window, then compare-and-set it into the voters unless the group reached the voters-per-group
 * limit. A learner that does not catch up within the catch-up deadline stays a learner and the
 * result says so. When every group is done the node is ACTIVE (if every group ended as
 * intended), routing is persisted in one group-0 entry, and the topology is broadcast.
 *
 * <p>Operators steer it with signals: {@link #pause()} holds every promotion that has not
 * started, {@link #resume()} releases them, {@link #promoteNow()} skips the rest of every
 * stabilization window (a paused promotion stays paused).
 */
@WorkflowInterface
public interface PromoteWorkflow {

  @WorkflowMethod
  PromoteResult promote(PromoteInput input);

  @SignalMethod(description = "Hold every group's promotion that has not started; catching up and the"
      + " stabilization windows go on. Undone by resume.")
  void pause();

  @SignalMethod(description = "Release the promotions pause held.")
  void resume();

  @SignalMethod(description = "Skip the rest of every stabilization window: promote each group as soon as its"
      + " learner caught up (a paused promotion stays paused).")
  void promoteNow();

  /** Phase, operator flags and per-group state; answered from workflow state, never blocks. */
  @QueryMethod(description = "The promotion's phase (describe, groups, persist, broadcast, done, failed), whether it"
      + " is paused or told to promote now, and each group's state (pending, catching-up, stabilizing, voter,"
      + " learner) with why a group stayed a learner.")
  PromoteProgress progress();

  static String workflowId(long clusterId, long nodeId) {
    return "promote/" + Long.toUnsignedString(clusterId) + "/" + Long.toUnsignedString(nodeId);
  }
}
