package io.joinflow.workflows;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The cluster as group 0 and the groups' configurations describe it at one moment.
 *
 * @param clusterId cluster id (0 when unknown)
 * @param topologyVersion group 0's topology version
 * @param dataGroups number of data groups (groups are 0..dataGroups)
 * @param nodes nodes of the topology
 * @param groups every group's membership
 */
public record ClusterSnapshot(long clusterId, long topologyVersion, int dataGroups, List<NodeInfo> nodes,
                              List<GroupInfo> groups) {

  public static ClusterSnapshot empty() {
    return new ClusterSnapshot(0, 0, 0, List.of(), List.of());
  }

  /** This snapshot with one group's membership replaced (or added), groups sorted by id. */
  public ClusterSnapshot withGroup(GroupInfo group) {
    List<GroupInfo> updated = new ArrayList<>();
    if (groups != null) {
      for (GroupInfo g : groups) {
        if (g.groupId() != group.groupId()) {
          updated.add(g);
        }
      }
    }
    updated.add(group);
    updated.sort(Comparator.comparingInt(GroupInfo::groupId));
    return new ClusterSnapshot(clusterId, topologyVersion, dataGroups, nodes, List.copyOf(updated));
  }

  /** A node of the topology. {@code state} is a NodeState name, e.g. {@code "LEARNER"}. */
  public record NodeInfo(long nodeId, String addr, String state, List<Integer> raftGroups, int wireVersion) {}

  /** A group's leader (0 when none answered), voters and learners. */
  public record GroupInfo(int groupId, long leader, List<Long> voters, List<Long> learners) {}
}
