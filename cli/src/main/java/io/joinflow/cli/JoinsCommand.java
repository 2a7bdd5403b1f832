package io.joinflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GroupProgress;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.JoinRun;
import io.joinflow.proto.v1.ListJoinsRequest;
import io.joinflow.proto.v1.ListJoinsResponse;
import io.joinflow.proto.v1.TemporalInfo;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow joins}: every join, or with {@code --node-id} one join's live progress (phase
 * and per-group state). On a Temporal that lists workflows (the dev server, a real cluster) the
 * list is every run from Temporal's visibility, failed and compensated ones included, each with
 * its Web UI link; on the embedded server, which cannot list, it is what group 0 remembers.
 */
@Command(name = "joins", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Lists joins, or shows one join's progress with --node-id.")
public final class JoinsCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

  @Option(names = "--gateway", required = true, paramLabel = "HOST:PORT", description = "A JoinService address.")
  String gateway;

  @Option(names = "--node-id", paramLabel = "ID", description = "Show this node's join.")
  Long nodeId;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Mixin
  LogOptions logOptions = new LogOptions();

  @Mixin
  SecurityOptions security = new SecurityOptions();

  @Override
  public Integer call() throws Exception {
    try (CommandLog log = logOptions.open(null, spec.commandLine().getErr())) {
      return run();
    }
  }

  private int run() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      HostPort.parse(gateway);
    } catch (IllegalArgumentException e) {
      err.println("joinflow joins: --gateway: " + e.getMessage());
      return 2;
    }
    io.joinflow.security.Channels transport;
    try {
      transport = security.channels(io.joinflow.security.Role.OPERATOR, 0, false);
    } catch (IllegalArgumentException e) {
      err.println("joinflow joins: " + e.getMessage());
      err.flush();
      return 2;
    }
    ManagedChannel channel = transport.channel(gateway);
    try {
      var stub = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      ObjectMapper mapper = new ObjectMapper();
      if (nodeId != null) {
        JoinProgress p = stub.getJoin(GetJoinRequest.newBuilder().setNodeId(nodeId).build());
        if (json) {
          ObjectNode o = mapper.createObjectNode();
          putTemporal(o, p.getTemporal());
          o.put("workflow_id", p.getWorkflowId()).put("run_id", p.getRunId()).put("node_id", p.getNodeId())
              .put("phase", p.getPhase()).put("outcome", p.getOutcome()).put("recovered", p.getRecovered());
          putLink(o, p.getUiUrl());
          ArrayNode gs = o.putArray("groups");
          for (GroupProgress g : p.getGroupsList()) {
            gs.addObject().put("group_id", g.getGroupId()).put("state", g.getState());
          }
          out.println(mapper.writeValueAsString(o));
        } else {
          out.println(p.getWorkflowId() + " run " + p.getRunId() + ": phase " + p.getPhase()
              + (p.getOutcome().isEmpty() ? "" : ", " + p.getOutcome()));
          if (!p.getRecovered().isEmpty()) {
            out.println("  recovered: " + p.getRecovered());
          }
          if (!p.getUiUrl().isEmpty()) {
            out.println("  web ui: " + p.getUiUrl());
          }
          for (GroupProgress g : p.getGroupsList()) {
            out.println("  group " + g.getGroupId() + ": " + g.getState());
          }
        }
      } else {
        ListJoinsResponse listed = stub.listJoins(ListJoinsRequest.getDefaultInstance());
        List<JoinRecord> joins = listed.getJoinsList();
        if (json) {
          ObjectNode o = mapper.createObjectNode();
          putTemporal(o, listed.getTemporal());
          o.put("source", listed.getSource());
          ArrayNode runs = o.putArray("runs");
          for (JoinRun r : listed.getRunsList()) {
            ObjectNode n = runs.addObject().put("node_id", Unsigned.big(r.getNodeId())).put("workflow_id", r.getWorkflowId())
                .put("run_id", r.getRunId()).put("status", r.getStatus()).put("phase", r.getPhase())
                .put("started_at_millis", r.getStartedAtMillis()).put("closed_at_millis", r.getClosedAtMillis());
            putLink(n, r.getUiUrl());
          }
          ArrayNode a = o.putArray("joins");
          for (JoinRecord j : joins) {
            a.addObject().put("node_id", j.getNodeId()).put("workflow_id", j.getWorkflowId())
                .put("phase", j.getPhase()).put("outcome", j.getOutcome()).put("updated_at_millis", j.getUpdatedAtMillis());
          }
          out.println(mapper.writeValueAsString(o));
        } else if (listed.getSource().equals("temporal")) {
          out.println("every join run Temporal lists (" + listed.getTemporal().getMode() + ", namespace "
              + listed.getTemporal().getNamespace() + "), newest first:");
          out.printf("%-6s %-28s %-10s %-12s %-20s %s%n", "NODE", "WORKFLOW", "STATUS", "PHASE", "STARTED", "RUN");
          for (JoinRun r : listed.getRunsList()) {
            out.printf("%-6s %-28s %-10s %-12s %-20s %s%n", Long.toUnsignedString(r.getNodeId()), r.getWorkflowId(),
                r.getStatus(), r.getPhase(), java.time.Instant.ofEpochMilli(r.getStartedAtMillis())
                    .truncatedTo(java.time.temporal.ChronoUnit.SECONDS), r.getRunId());
            if (!r.getUiUrl().isEmpty()) {
              out.println("       " + r.getUiUrl());
            }
          }
          if (listed.getRunsCount() == 0) {
            out.println("(none)");
          }
        } else {
          out.println("joins group 0 remembers (the " + listed.getTemporal().getMode() + " Temporal cannot list workflows):");
          out.printf("%-6s %-28s %-12s %s%n", "NODE", "WORKFLOW", "PHASE", "OUTCOME");
          for (JoinRecord j : joins) {
            out.printf("%-6d %-28s %-12s %s%n", j.getNodeId(), j.getWorkflowId(), j.getPhase(), j.getOutcome());
          }
        }
      }
      return 0;
    } catch (StatusRuntimeException e) {
      err.println("joinflow joins: " + gateway + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription()
          + SecurityOptions.hint(e.getStatus(), transport));
      return 1;
    } finally {
      channel.shutdownNow();
    }
  }

  private static void putTemporal(ObjectNode o, TemporalInfo t) {
    o.put("temporal_mode", t.getMode()).put("temporal_address", t.getAddress())
        .put("temporal_namespace", t.getNamespace());
    putLink(o, t.getUiUrl());
  }

  private static void putLink(ObjectNode o, String url) {
    if (url.isEmpty()) {
      o.putNull("ui_url");
    } else {
      o.put("ui_url", url);
    }
  }
}
