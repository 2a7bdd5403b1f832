package io.joinflow.workflows;

import java.util.List;

/**
 * The outcome of a leave.
 *
 * @param success the node is in no group and DECOMMISSIONED
 * @param error why not (empty on success)
 * @param errorCode for a refused leave, the {@link JoinFailures} type that refused it (empty
 *     otherwise); a refused leave changed nothing. A leave that failed after it started leaves
 *     the node DRAINING; running it again finishes it
 * @param removedFrom groups the node was removed from
 * @param leadershipMoved groups whose leadership was moved away from the node
 * @param alreadyLeft the node had left before and nothing was changed
 */
public record LeaveResult(boolean success, String error, String errorCode, List<Integer> removedFrom,
                          List<Integer> leadershipMoved, boolean alreadyLeft, ClusterSnapshot cluster) {}
