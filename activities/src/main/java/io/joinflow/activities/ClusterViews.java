package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.reject;

import io.grpc.Status;
import io.joinflow.proto.ClusterViewFacts;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.workflows.ClusterSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The questions activities ask of what they read: pure functions, no calls. */
final class ClusterViews {

  private ClusterViews() {}

  /** The activities' one check of a node id a step is asked about. */
  static void requireNodeId(long nodeId) {
    if (nodeId == 0) {
      throw reject(Status.INVALID_ARGUMENT, "node_id must be non-zero");
    }
  }

  /** The node's record; NOT_FOUND when the topology does not list it. */
  static NodeRecord requireNode(List<NodeRecord> nodes, long nodeId) {
    requireNodeId(nodeId);
    NodeRecord node = findNode(nodes, nodeId);
    if (node == null) {
      throw reject(Status.NOT_FOUND, "node " + nodeId + " is not in the topology");
    }
    return node;
  }

  static NodeRecord findNode(List<NodeRecord> nodes, long nodeId) {
    return nodes.stream().filter(n -> n.getNodeId() == nodeId).findFirst().orElse(null);
  }

  /**
   * A group without a reachable leader is reported from routing, which may be stale: deciding
   * membership from it would be a guess, so wait for a leader instead (retryable).
   */
  static void requireLeaders(ClusterView view, String consequence) {
    requireLeaders(view.getGroupsList(), consequence);
  }

  static void requireLeaders(List<GroupView> groups, String consequence) {
    List<Integer> leaderless = ClusterViewFacts.leaderless(groups);
    if (!leaderless.isEmpty()) {
      throw NodeAdminFailures.of(Status.UNAVAILABLE.withDescription(ClusterViewFacts.groups(leaderless)
          + " answered without a leader; " + consequence));
    }
  }

  /** Groups whose published routing differs from their live configuration. */
  static List<Integer> staleRoutes(ClusterView view) {
    List<Integer> stale = new ArrayList<>();
    for (GroupView g : view.getGroupsList()) {
      if (g.getLeader() == 0) {
        continue;
      }
      GroupRoute route = view.getRoutingList().stream().filter(r -> r.getGroupId() == g.getGroupId())
          .findFirst().orElse(null);
      if (route == null || !Set.copyOf(route.getVotersList()).equals(Set.copyOf(g.getVotersList()))
          || !Set.copyOf(route.getLearnersList()).equals(Set.copyOf(g.getLearnersList()))) {
        stale.add(g.getGroupId());
      }
    }
    return stale;
  }

  /** The cluster as the view shows it; a node's raft groups are those whose conf lists it. */
  static ClusterSnapshot snapshot(ClusterView view) {
    List<ClusterSnapshot.GroupInfo> groups = view.getGroupsList().stream()
        .map(g -> new ClusterSnapshot.GroupInfo(g.getGroupId(), g.getLeader(), List.copyOf(g.getVotersList()),
            List.copyOf(g.getLearnersList())))
        .toList();
    List<ClusterSnapshot.NodeInfo> nodes = view.getNodesList().stream()
        .map(n -> new ClusterSnapshot.NodeInfo(n.getNodeId(), n.getAddr(), n.getState().name(),
            groups.stream().filter(g -> g.voters().contains(n.getNodeId()) || g.learners().contains(n.getNodeId()))
                .map(ClusterSnapshot.GroupInfo::groupId).toList(),
            n.getWireVersion()))
        .toList();
    return new ClusterSnapshot(view.getClusterId(), view.getTopologyVersion(), view.getDataGroups(), nodes, groups);
  }
}
