package io.joinflow.cli;

import io.joinflow.proto.HostPort;
import java.io.IOException;
import picocli.CommandLine.Option;

/** {@code --metrics-listen HOST:PORT}: where a long-running command serves {@code /metrics} (off unless given). */
final class MetricsOptions {
  @Option(names = "--metrics-listen", paramLabel = "HOST:PORT",
      description = "Serve Prometheus metrics at http://HOST:PORT/metrics (default: no metrics endpoint).")
  String listen;

  /**
   * The address to serve on, or null when metrics are off.
   *
   * @throws IllegalArgumentException with a sentence naming the option
   */
  HostPort address() {
    if (listen == null) {
      return null;
    }
    try {
      return HostPort.parse(listen);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--metrics-listen: " + e.getMessage(), e);
    }
  }

  /** Starts the endpoint at {@code address} ({@link MetricsEndpoint#off()} for null). */
  static MetricsEndpoint start(HostPort address) throws IOException {
    return address == null ? MetricsEndpoint.off() : MetricsEndpoint.start(address);
  }
}
