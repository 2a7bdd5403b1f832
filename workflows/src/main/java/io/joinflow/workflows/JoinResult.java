package io.joinflow.workflows;

import java.util.List;

/**
 * The outcome of a join: NodeDB's JoinResponse content plus how it ended.
 *
 * @param success the node is a learner (or voter) of every group and LEARNER/ACTIVE in topology
 * @param error why the join failed (empty on success)
 * @param errorCode for a rejected request, the {@link JoinFailures} type that rejected it
 *     (empty otherwise); a rejected join changed nothing
 * @param cluster the cluster as persisted by the join (or as it was, for a rejection)
 * @param alreadyJoined the node had joined before and nothing was changed
 */
public record JoinResult(boolean success, String error, String errorCode, ClusterSnapshot cluster,
                         boolean alreadyJoined) {

  public static JoinResult joined(ClusterSnapshot cluster, boolean alreadyJoined) {
    return new JoinResult(true, "", "", cluster, alreadyJoined);
  }

  public static JoinResult failed(String error, String errorCode, ClusterSnapshot cluster) {
    return new JoinResult(false, error, errorCode == null ? "" : errorCode, cluster, false);
  }

  /** vShard i → data group {@code 1 + i % G} (1024 entries; empty when G is unknown). */
  public static List<Integer> vshardToGroup(int dataGroups) {
    if (dataGroups <= 0) {
      return List.of();
    }
    Integer[] out = new Integer[1024];
    for (int i = 0; i < out.length; i++) {
      out[i] = 1 + i % dataGroups;
    }
    return List.of(out);
  }
}
