package io.joinflow.cli;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** How a command gets its Temporal: {@code --temporal auto|embedded|cli|env} and its companions. */
final class TemporalOptions {
  @Option(names = "--temporal", defaultValue = "auto", paramLabel = "MODE",
      description = "auto, embedded, cli or env (default: ${DEFAULT-VALUE}: env when TEMPORAL_ADDRESS is set, else cli"
          + " when the temporal command is on PATH, else embedded). cli runs the Temporal CLI's dev server"
          + " (durable history, Web UI); embedded the in-memory test server (Java only, no UI); env the"
          + " cluster of TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_*.")
  String mode = "auto";

  @Option(names = "--temporal-cli", paramLabel = "PATH",
      description = "The temporal executable for --temporal cli (default: temporal on PATH).")
  Path cli;

  @Option(names = "--temporal-ui", paramLabel = "URL",
      description = "With --temporal env: the root of that cluster's Web UI, for links to each join's page.")
  String uiUrl;

  /**
   * @throws IllegalArgumentException naming the option to fix
   */
  TemporalChoice choose() {
    return TemporalChoice.resolve(mode, cli, uiUrl, System.getenv(), TemporalChoice::temporalOnPath);
  }

  TemporalChoice choose(Map<String, String> env) {
    return TemporalChoice.resolve(mode, cli, uiUrl, env, TemporalChoice::temporalOnPath);
  }
}
