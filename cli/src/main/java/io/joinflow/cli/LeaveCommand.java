package io.joinflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.LeaveRequest;
import io.joinflow.proto.v1.LeaveResponse;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow leave}: decommissions a node through the gateway's leave workflow and waits
 * for it. Exit 0 when the node left (or had left), 1 when the leave was refused or failed (the
 * reason is printed; a refused leave changed nothing), 2 on bad input.
 */
@Command(name = "leave", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Decommissions a node: drains it, moves its leaderships away and removes it from every group.")
public final class LeaveCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

  @Option(names = "--gateway", required = true, paramLabel = "HOST:PORT", description = "A JoinService address.")
  String gateway;

  @Option(names = "--node-id", required = true, paramLabel = "ID", description = "The node to decommission.")
  long nodeId;

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
      err.println("joinflow leave: --gateway: " + e.getMessage());
      return 2;
    }
    if (nodeId == 0) {
      err.println("joinflow leave: --node-id must be non-zero");
      return 2;
    }
    io.joinflow.security.Channels transport;
    try {
      transport = security.channels(io.joinflow.security.Role.OPERATOR, 0, false);
    } catch (IllegalArgumentException e) {
      err.println("joinflow leave: " + e.getMessage());
      err.flush();
      return 2;
    }
    ManagedChannel channel = transport.channel(gateway);
    try {
      LeaveResponse r = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(11, TimeUnit.MINUTES)
          .leave(LeaveRequest.newBuilder().setNodeId(nodeId).build());
      if (json) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode o = mapper.createObjectNode();
        o.put("success", r.getSuccess()).put("node_id", nodeId).put("workflow_id", r.getWorkflowId())
            .put("run_id", r.getRunId()).put("already_left", r.getAlreadyLeft());
        if (!r.getSuccess()) {
          o.put("error", r.getError());
        }
        ArrayNode removed = o.putArray("removed_from");
        r.getRemovedFromList().forEach(removed::add);
        ArrayNode moved = o.putArray("leadership_moved");
        r.getLeadershipMovedList().forEach(moved::add);
        out.println(mapper.writeValueAsString(o));
      } else if (r.getSuccess()) {
        out.println(r.getAlreadyLeft() ? "node " + nodeId + " had already left; nothing changed"
            : "node " + nodeId + " left groups " + r.getRemovedFromList() + " (leadership moved away from "
                + r.getLeadershipMovedList() + ") and is DECOMMISSIONED (" + r.getWorkflowId() + ")");
      } else {
        err.println("joinflow leave: node " + nodeId + " did not leave: " + r.getError());
      }
      return r.getSuccess() ? 0 : 1;
    } catch (StatusRuntimeException e) {
      err.println("joinflow leave: " + e.getStatus().getCode() + " " + e.getStatus().getDescription()
          + SecurityOptions.hint(e.getStatus(), transport));
      return 1;
    } finally {
      channel.shutdownNow();
    }
  }
}
