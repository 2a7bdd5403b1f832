package io.joinflow.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.NodeRecord;
import java.util.List;

/**
 * The JSON form of a {@link ClusterView} that {@code joinflow status --json} prints; scripts
 * depend on its field names. Every uint64 is an unsigned JSON number, node states are enum
 * names:
 *
 * <pre>
 * {"cluster_id": N, "topology_version": N,
 *  "nodes":  [{"node_id": N, "addr": "host:port", "state": "ACTIVE"}],
 *  "groups": [{"group_id": N, "leader": N, "voters": [N], "learners": [N], "commit_index": N}]}
 * </pre>
 *
 * A group without a reachable leader has leader 0.
 */
public final class ClusterJson {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private ClusterJson() {}

  /** The view as one JSON object. */
  public static ObjectNode render(ClusterView view) {
    ObjectNode root = JSON.objectNode();
    root.put("cluster_id", Unsigned.big(view.getClusterId()));
    root.put("topology_version", Unsigned.big(view.getTopologyVersion()));
    ArrayNode nodes = root.putArray("nodes");
    for (NodeRecord n : view.getNodesList()) {
      nodes.addObject()
          .put("node_id", Unsigned.big(n.getNodeId()))
          .put("addr", n.getAddr())
          .put("state", n.getState().name());
    }
    ArrayNode groups = root.putArray("groups");
    for (GroupView g : view.getGroupsList()) {
      ObjectNode group = groups.addObject();
      group.put("group_id", Integer.toUnsignedLong(g.getGroupId()));
      group.put("leader", Unsigned.big(g.getLeader()));
      ids(group.putArray("voters"), g.getVotersList());
      ids(group.putArray("learners"), g.getLearnersList());
      group.put("commit_index", Unsigned.big(g.getCommitIndex()));
    }
    return root;
  }

  private static void ids(ArrayNode array, List<Long> ids) {
    ids.forEach(id -> array.add(Unsigned.big(id)));
  }
}
