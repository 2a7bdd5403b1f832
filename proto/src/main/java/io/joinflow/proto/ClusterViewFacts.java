package io.joinflow.proto;

import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupView;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a cluster view says about a node and its groups: pure functions, shared by the node
 * (which plans topology changes from a view) and the activities (which check a step's result
 * against one), so both sides judge membership and name groups the same way.
 */
public final class ClusterViewFacts {

  private ClusterViewFacts() {}

  public static Optional<GroupView> group(ClusterView view, int group) {
    return view.getGroupsList().stream().filter(g -> g.getGroupId() == group).findFirst();
  }

  /** Whether the group's configuration lists the node as voter or learner. */
  public static boolean isMember(GroupView g, long nodeId) {
    return g.getVotersList().contains(nodeId) || g.getLearnersList().contains(nodeId);
  }

  /** Groups 0..G of the view that do not list the node as voter or learner. */
  public static List<Integer> missingGroups(ClusterView view, long nodeId) {
    List<Integer> missing = new ArrayList<>();
    for (int g = 0; g <= view.getDataGroups(); g++) {
      Optional<GroupView> gv = group(view, g);
      if (gv.isEmpty() || !isMember(gv.get(), nodeId)) {
        missing.add(g);
      }
    }
    return missing;
  }

  /** Groups of the view that list the node as voter or learner. */
  public static List<Integer> memberOf(ClusterView view, long nodeId) {
    return view.getGroupsList().stream().filter(g -> isMember(g, nodeId)).map(GroupView::getGroupId).toList();
  }

  /**
   * Groups that answered without a leader: they are reported from routing, which may be stale,
   * so deciding membership from them would be a guess.
   */
  public static List<Integer> leaderless(List<GroupView> groups) {
    return groups.stream().filter(g -> g.getLeader() == 0).map(GroupView::getGroupId).toList();
  }

  /** "group 3" for one group, "groups 1, 2" for several. */
  public static String groups(List<Integer> groups) {
    return "group" + (groups.size() == 1 ? " " : "s ")
        + groups.stream().map(String::valueOf).collect(Collectors.joining(", "));
  }
}
