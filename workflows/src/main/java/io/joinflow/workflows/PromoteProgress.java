package io.joinflow.workflows;

import java.util.List;

/**
 * What the promotion's {@code progress} query answers, and (final) what it returns.
 *
 * @param phase see {@link PromotePhase}
 * @param paused an operator paused promotions (no group is promoted until resumed)
 * @param promoteNow an operator asked to skip the stabilization windows
 * @param groups per group: state ({@link PromotePhase} GROUP_*) and, for a group that ends with
 *     the node as learner, why
 * @param outcome empty while running
 * @param done the workflow has finished
 */
public record PromoteProgress(long nodeId, String phase, boolean paused, boolean promoteNow, long startedAtMillis,
                              long updatedAtMillis, List<GroupPromotion> groups, String outcome, boolean done) {

  /** One group's promotion. {@code detail} says why a group ended with the node as learner. */
  public record GroupPromotion(int groupId, String state, String detail, long updatedAtMillis) {}
}
