package io.joinflow.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.joinflow.node.Node;
import io.joinflow.proto.v1.GroupInfo;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.workflows.PromoteWorkflow;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * What {@code joinflow node --join} tells about its own join: a line per change of phase or
 * per-group progress while it waits (the demo's lines), the join's Web UI page once known, and
 * at the end the groups it joined, how long it took and what to run to watch its promotion.
 * With {@code --json} each is one JSON line with an {@code event} field ({@code progress},
 * {@code joined}, {@code ready}).
 */
final class JoinReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintWriter out;
  private final boolean json;
  private final long nodeId;
  private final String listen;
  private final List<String> gateways;
  private final long started = System.nanoTime();
  private String uiUrl = "";

  JoinReport(PrintWriter out, boolean json, long nodeId, String listen, List<String> gateways) {
    this.out = out;
    this.json = json;
    this.nodeId = nodeId;
    this.listen = listen;
    this.gateways = List.copyOf(gateways);
  }

  private long elapsedMillis() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
  }

  void progress(JoinWatch.Change change) {
    boolean newLink = !change.uiUrl().isEmpty() && !change.uiUrl().equals(uiUrl);
    if (newLink) {
      uiUrl = change.uiUrl();
    }
    if (json) {
      ObjectNode o = JSON.createObjectNode().put("event", "progress").put("elapsed_ms", elapsedMillis())
          .put("node_id", Long.toUnsignedString(nodeId)).put("workflow_id", change.workflowId())
          .put("phase", change.phase()).put("groups", change.groups()).put("learner", change.learner())
          .put("caught_up", change.caughtUp());
      change.pending().forEach(o.putArray("pending")::add);
      change.removed().forEach(o.putArray("removed")::add);
      if (!uiUrl.isEmpty()) {
        o.put("ui_url", uiUrl);
      }
      print(write(o));
      return;
    }
    if (newLink) {
      print("see the join in the Temporal Web UI: " + uiUrl);
    }
    print(String.format("[%6d ms] %s", elapsedMillis(), change.line()));
  }

  /** The end of a successful join: its groups, its duration, and how to watch the promotion it started. */
  void joined(JoinResponse r) {
    List<Long> groups = r.getGroupsList().stream()
        .filter(g -> g.getLearnersList().contains(nodeId) || g.getMembersList().contains(nodeId))
        .map(GroupInfo::getGroupId).sorted().toList();
    String promotion = PromoteWorkflow.workflowId(r.getClusterId(), nodeId);
    String watch = "./joinflow status --target " + listen;
    String link = r.getUiUrl().isEmpty() ? uiUrl : r.getUiUrl();
    if (json) {
      ObjectNode o = JSON.createObjectNode().put("event", "joined").put("node_id", Long.toUnsignedString(nodeId))
          .put("cluster_id", Long.toUnsignedString(r.getClusterId())).put("workflow_id", r.getWorkflowId())
          .put("run_id", r.getRunId()).put("already_joined", r.getAlreadyJoined()).put("join_ms", elapsedMillis());
      groups.forEach(o.putArray("groups")::add);
      if (!link.isEmpty()) {
        o.put("ui_url", link);
      }
      o.putObject("promotion").put("workflow_id", promotion).put("watch", watch)
          .put("watch_join", "./joinflow joins --gateway " + gateways.get(0) + " --node-id "
              + Long.toUnsignedString(nodeId));
      print(write(o));
      return;
    }
    String ids = groups.stream().map(String::valueOf).collect(Collectors.joining(","));
    print(String.format("[%6d ms] node %s %s %d groups (%s) as learner%s: %s", elapsedMillis(),
        Long.toUnsignedString(nodeId), r.getAlreadyJoined() ? "had already joined" : "joined", groups.size(), ids,
        r.getAlreadyJoined() ? "" : " in " + elapsedMillis() + " ms", r.getWorkflowId()));
    if (!link.isEmpty()) {
      print("the join in the Temporal Web UI: " + link);
    }
    print("its promotion to voter runs now (" + promotion + "); watch it with:");
    print("  " + watch + "    (voters and learners per group)");
  }

  /** The JSON ready line: what scripts need to talk to the node. */
  static String ready(Node node, String metricsUrl) {
    ObjectNode o = JSON.createObjectNode().put("event", "ready")
        .put("node_id", Long.toUnsignedString(node.nodeId()))
        .put("addr", node.config().listen().toString()).put("raft_addr", node.config().raftListen().toString())
        .put("cluster_id", Long.toUnsignedString(node.identity().clusterId()));
    if (!metricsUrl.isEmpty()) {
      o.put("metrics_url", metricsUrl);
    }
    return write(o);
  }

  private void print(String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  private static String write(ObjectNode o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
