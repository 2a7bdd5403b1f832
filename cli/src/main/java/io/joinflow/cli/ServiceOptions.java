package io.joinflow.cli;

import io.joinflow.proto.HostPort;
import io.joinflow.workflows.JoinOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options the worker and the gateway share: the cluster nodes to talk to, and join tunables. */
final class ServiceOptions {
  @Option(names = "--nodes", required = true, split = ",", paramLabel = "HOST:PORT",
      description = "NodeAdmin addresses of cluster nodes (any live one is used).")
  List<String> nodes = new ArrayList<>();

  @Option(names = "--deadline-seconds", defaultValue = "120",
      description = "Overall deadline of one join before it compensates (default: ${DEFAULT-VALUE}).")
  long deadlineSeconds;

  @Option(names = "--fan-out", defaultValue = "16",
      description = "Learner additions (one per group) one join makes at once (default: ${DEFAULT-VALUE}).")
  int fanOut;

  @Option(names = "--temporal-port", defaultValue = "7233",
      description = "With --temporal cli or embedded: the loopback port of the Temporal this process starts (its Web UI"
          + " on PORT+2), or uses when one answers there already, e.g. the gateway's for a worker (default:"
          + " ${DEFAULT-VALUE}).")
  int temporalPort;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "With --temporal cli: where the dev server this process starts keeps its history (temporal.db)"
          + " and log (default: ./joinflow-temporal).")
  java.nio.file.Path dataDir;

  /**
   * Opens the chosen Temporal. In cli and embedded mode a Temporal that already answers on
   * {@code --temporal-port} (started by another joinflow process) is used as it is; otherwise
   * this process starts one and owns it, so it stops with this process.
   */
  io.joinflow.worker.TemporalConnection openTemporal(TemporalChoice choice) throws java.io.IOException {
    return openTemporal(choice, new com.uber.m3.tally.NoopScope());
  }

  /** {@link #openTemporal(TemporalChoice)} reporting the SDK's metrics to {@code metrics}. */
  io.joinflow.worker.TemporalConnection openTemporal(TemporalChoice choice, com.uber.m3.tally.Scope metrics)
      throws java.io.IOException {
    if (choice.mode() == io.joinflow.worker.TemporalConnection.Mode.ENV) {
      return choice.open(temporalPort, null, true, metrics);
    }
    if (temporalPort < 1 || temporalPort > 65_530) {
      throw new IllegalArgumentException("--temporal-port must be 1..65530");
    }
    if (TemporalChoice.answers(temporalPort)) {
      return TemporalChoice.attach(choice, temporalPort, metrics);
    }
    java.nio.file.Path dir = dataDir == null ? java.nio.file.Path.of("joinflow-temporal") : dataDir;
    return choice.open(temporalPort, dir.toAbsolutePath(), true, metrics);
  }

  /**
   * @throws IllegalArgumentException naming the option to fix
   */
  List<String> validatedNodes() {
    for (String n : nodes) {
      try {
        HostPort.parse(n);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--nodes: " + e.getMessage(), e);
      }
    }
    return List.copyOf(nodes);
  }

  JoinOptions joinOptions() {
    if (deadlineSeconds < 1 || fanOut < 1) {
      throw new IllegalArgumentException("--deadline-seconds and --fan-out must be at least 1");
    }
    return new JoinOptions(deadlineSeconds * 1000, fanOut);
  }
}
