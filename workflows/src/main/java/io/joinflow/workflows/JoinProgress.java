package io.joinflow.workflows;

import java.util.List;

/**
 * What the {@code progress} query answers.
 *
 * @param nodeId the joining node
 * @param phase the current phase (see {@link JoinPhase})
 * @param startedAtMillis workflow time the join started
 * @param updatedAtMillis workflow time of the last change
 * @param groups per group: {@code pending}, {@code learner}, {@code caught-up} or {@code removed}
 * @param outcome empty while running; the result's summary once finished
 */
public record JoinProgress(long nodeId, String phase, long startedAtMillis, long updatedAtMillis,
                           List<GroupProgress> groups, String outcome) {

  public record GroupProgress(int groupId, String state, long updatedAtMillis) {}
}
