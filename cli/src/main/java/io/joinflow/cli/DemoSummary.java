package io.joinflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.PromotionProgress;
import java.nio.file.Path;

/**
 * The demo's last line with {@code --json}: the join, its timeline, the promotion and the cluster.
 */
final class DemoSummary {
  private DemoSummary() {}

  static String summary(JoinResponse r, ClusterView view, long joinMs, JoinTimeline timeline,
                                PromotionProgress promotion, long promoteMs, long stabilizationMs,
                                DemoCrash.LeaderCrash crash,
                                io.joinflow.worker.TemporalConnection temporal, Path logFile, boolean tls)
      throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode o = mapper.createObjectNode();
    o.put("success", r.getSuccess());
    o.put("tls", tls);
    TemporalJson.put(o, temporal);
    if (logFile == null) {
      o.putNull("log_file");
    } else {
      o.put("log_file", logFile.toString());
    }
    if (crash != null) {
      o.put("crashed_node", crash.killed());
      o.put("crashed_during", crash.step());
    }
    if (!r.getSuccess()) {
      o.put("error", r.getError());
    }
    o.put("cluster_id", Unsigned.big(view.getClusterId()));
    o.put("node_id", DemoCommand.JOINING_NODE);
    o.put("workflow_id", r.getWorkflowId());
    o.put("run_id", r.getRunId());
    ObjectNode join = o.putObject("join");
    join.put("workflow_id", r.getWorkflowId()).put("run_id", r.getRunId());
    if (r.getUiUrl().isEmpty()) {
      join.putNull("ui_url");
    } else {
      join.put("ui_url", r.getUiUrl());
    }
    o.put("join_ms", joinMs);
    if (promotion != null) {
      o.put("promote_workflow_id", promotion.getWorkflowId());
      if (!promotion.getUiUrl().isEmpty()) {
        o.put("promote_ui_url", promotion.getUiUrl());
      }
      o.put("promote_phase", promotion.getPhase());
      o.put("promote_ms", promoteMs);
      // The window is waited, not worked: reported apart so the work can be read on its own.
      o.put("stabilization_ms", stabilizationMs);
      o.put("promote_work_ms", Math.max(0, promoteMs - stabilizationMs));
    }
    JoinTimeline.Span dominant = timeline.dominant();
    if (dominant != null) {
      o.put("dominant_step", dominant.activity());
      o.put("dominant_step_ms", dominant.wallMs());
    }
    ArrayNode steps = o.putArray("steps");
    for (JoinTimeline.Span s : timeline.spans()) {
      steps.addObject().put("activity", s.activity()).put("wall_ms", s.wallMs()).put("count", s.count());
    }
    ArrayNode gs = o.putArray("groups");
    for (GroupView g : view.getGroupsList()) {
      ObjectNode gn = gs.addObject();
      gn.put("group_id", g.getGroupId());
      ArrayNode v = gn.putArray("voters");
      g.getVotersList().forEach(id -> v.add(Unsigned.big(id)));
      ArrayNode l = gn.putArray("learners");
      g.getLearnersList().forEach(id -> l.add(Unsigned.big(id)));
    }
    return mapper.writeValueAsString(o);
  }
}
