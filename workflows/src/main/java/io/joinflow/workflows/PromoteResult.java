package io.joinflow.workflows;

import java.util.List;

/**
 * The outcome of a promotion.
 *
 * @param success every group ended as intended: the node is a voter, or stays a learner
 *     because the group reached the voters-per-group limit; the node is then ACTIVE
 * @param error why not (empty on success): learners that never caught up, refused promotions,
 *     or a node that cannot be promoted at all
 * @param nodeState the node's state in the topology afterwards
 * @param groups per-group outcome ({@code voter} or {@code learner} with the reason)
 * @param cluster the cluster as the promotion persisted it (empty when it stopped early)
 */
public record PromoteResult(boolean success, String error, String nodeState,
                            List<PromoteProgress.GroupPromotion> groups, ClusterSnapshot cluster) {}
