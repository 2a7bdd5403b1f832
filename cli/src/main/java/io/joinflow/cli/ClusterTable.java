package io.joinflow.cli;

import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.NodeRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The human-readable form of a {@link ClusterView}: a header line, a nodes table and a groups
 * table with aligned columns. For people only; scripts use {@link ClusterJson}.
 */
public final class ClusterTable {
  private ClusterTable() {}

  /** The view as text, each line ending in a newline. */
  public static String render(ClusterView view) {
    StringBuilder out = new StringBuilder();
    out.append("cluster ").append(Unsigned.text(view.getClusterId()))
        .append("  topology version ").append(Unsigned.text(view.getTopologyVersion()))
        .append("  answered by node ").append(Unsigned.text(view.getAnsweredBy()))
        .append("\n\n");

    List<String[]> nodes = new ArrayList<>();
    nodes.add(new String[] {"NODE", "ADDR", "STATE"});
    for (NodeRecord n : view.getNodesList()) {
      nodes.add(new String[] {Unsigned.text(n.getNodeId()), n.getAddr(), n.getState().name()});
    }
    columns(out, nodes);
    out.append('\n');

    List<String[]> groups = new ArrayList<>();
    groups.add(new String[] {"GROUP", "LEADER", "VOTERS", "LEARNERS", "COMMIT"});
    for (GroupView g : view.getGroupsList()) {
      // Leader 0 means no leader answered; "-" reads better than a node id nobody has.
      String leader = g.getLeader() == 0 ? "-" : Unsigned.text(g.getLeader());
      groups.add(new String[] {Integer.toUnsignedString(g.getGroupId()), leader,
          Unsigned.list(g.getVotersList()), Unsigned.list(g.getLearnersList()),
          Unsigned.text(g.getCommitIndex())});
    }
    columns(out, groups);
    return out.toString();
  }

  private static void columns(StringBuilder out, List<String[]> rows) {
    int[] width = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        width[c] = Math.max(width[c], row[c].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < row.length; c++) {
        line.append(row[c]);
        if (c < row.length - 1) {
          line.append(" ".repeat(width[c] - row[c].length() + 2));
        }
      }
      out.append(line).append('\n');
    }
  }
}
