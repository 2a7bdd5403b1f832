package io.joinflow.workflows;

import io.joinflow.workflows.MembershipActivities.GroupRole;
import io.joinflow.workflows.MembershipActivities.MemberState;
import java.util.ArrayList;
import java.util.List;

/**
 * What a promotion needs: the node, the cluster it belongs to, and its tunables.
 *
 * @param member the node's membership as the join that just ended found it (its last read of
 *     the live configurations, after persisting the node), so the promotion starts on the groups
 *     at once; null: the promotion describes the node itself first (a node that joined earlier,
 *     or histories from before this field)
 */
public record PromoteInput(long nodeId, long clusterId, PromoteOptions options, MemberState member) {

  /** A promotion that describes the node itself. */
  public PromoteInput(long nodeId, long clusterId, PromoteOptions options) {
    this(nodeId, clusterId, options, null);
  }

  /**
   * The node's membership in {@code cluster}, as describeMember would answer it from the same
   * view: its state and address, and its role in every group 0..G. Null when the snapshot does
   * not list the node, or lacks a group or a group's leader (describeMember refuses to judge
   * roles from such a view, so the promotion asks it instead).
   */
  public static MemberState membershipOf(ClusterSnapshot cluster, long nodeId) {
    if (cluster == null || cluster.nodes() == null || cluster.groups() == null) {
      return null;
    }
    ClusterSnapshot.NodeInfo node = cluster.nodes().stream().filter(n -> n.nodeId() == nodeId).findFirst()
        .orElse(null);
    if (node == null) {
      return null;
    }
    List<GroupRole> roles = new ArrayList<>();
    for (int g = 0; g <= cluster.dataGroups(); g++) {
      int group = g;
      ClusterSnapshot.GroupInfo info = cluster.groups().stream().filter(i -> i.groupId() == group).findFirst()
          .orElse(null);
      if (info == null || info.leader() == 0) {
        return null;
      }
      String role = info.voters().contains(nodeId) ? GroupRole.VOTER
          : info.learners().contains(nodeId) ? GroupRole.LEARNER : GroupRole.NONE;
      roles.add(new GroupRole(g, role, info.leader(), List.copyOf(info.voters()), List.copyOf(info.learners())));
    }
    return new MemberState(cluster.clusterId(), cluster.dataGroups(), node.state(), node.addr(), roles);
  }
}
