package io.joinflow.cli;

import io.joinflow.proto.HostPort;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;

import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.NodeAdminGrpc;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow status}: asks one node for the cluster view and prints it as a table or as
 * one JSON object. Exit code 1 when the call fails, 2 for bad arguments.
 */
@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Prints the cluster view as one node reports it.")
public final class StatusCommand implements Callable<Integer> {
  private static final String PREFIX = "joinflow status: ";

  @Spec
  private CommandSpec spec;

  @Option(names = "--target", required = true, paramLabel = "HOST:PORT",
      description = "NodeAdmin address of any node of the cluster.")
  private String target;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  private boolean json;

  @Option(names = "--timeout-seconds", paramLabel = "S", defaultValue = "10",
      description = "Deadline of the call (default: ${DEFAULT-VALUE}).")
  private long timeoutSeconds;

  @Mixin
  LogOptions logOptions = new LogOptions();

  @Mixin
  SecurityOptions security = new SecurityOptions();

  @Override
  public Integer call() throws JsonProcessingException {
    try (CommandLog log = logOptions.open(null, spec.commandLine().getErr())) {
      return run();
    }
  }

  private int run() throws JsonProcessingException {
    PrintWriter err = spec.commandLine().getErr();
    HostPort address;
    try {
      address = HostPort.parse(target);
    } catch (IllegalArgumentException e) {
      err.println(PREFIX + "--target: " + e.getMessage());
      err.flush();
      return 2;
    }
    if (timeoutSeconds < 1) {
      err.println(PREFIX + "--timeout-seconds must be at least 1, not " + timeoutSeconds);
      err.flush();
      return 2;
    }
    ClusterView view;
    io.joinflow.security.Channels transport;
    try {
      transport = security.channels(io.joinflow.security.Role.OPERATOR, 0, false);
    } catch (IllegalArgumentException e) {
      err.println("joinflow status: " + e.getMessage());
      err.flush();
      return 2;
    }
    ManagedChannel channel = transport.channel(address.toString());
    try {
      view = NodeAdminGrpc.newBlockingStub(channel)
          .withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS)
          .getClusterView(GetClusterViewRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      String description = e.getStatus().getDescription();
      err.println(PREFIX + address + ": " + e.getStatus().getCode()
          + (description == null ? "" : " " + description) + SecurityOptions.hint(e.getStatus(), transport));
      err.flush();
      return 1;
    } finally {
      shutdown(channel);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().writeValueAsString(ClusterJson.render(view)));
    } else {
      out.print(ClusterTable.render(view));
    }
    out.flush();
    return 0;
  }

  private static void shutdown(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
