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
