package io.joinflow.cli;

import io.joinflow.workflows.PromoteOptions;
import picocli.CommandLine.Option;

/**
 * {@code --stabilization-ms}: how long a caught-up learner stays a learner before its promotion,
 * on every command that starts promotions (gateway, dev, demo, bench). 0 promotes as soon as
 * the learner caught up.
 */
final class StabilizationOption {
  @Option(names = "--stabilization-ms", paramLabel = "MS", defaultValue = "" + PromoteOptions.DEFAULT_STABILIZATION_MILLIS,
      description = "How long a caught-up learner stays a learner before it is promoted; 0 = at once"
          + " (default: ${DEFAULT-VALUE}).")
  long stabilizationMs = PromoteOptions.DEFAULT_STABILIZATION_MILLIS;

  /** A sentence for a bad value, or null. */
  String invalid() {
    return stabilizationMs < 0 || stabilizationMs > 86_400_000L
        ? "--stabilization-ms must be 0..86400000, not " + stabilizationMs : null;
  }

  /** The default promotion tunables with this window. */
  PromoteOptions promoteOptions() {
    PromoteOptions d = PromoteOptions.defaults();
    return new PromoteOptions(stabilizationMs, d.catchUpDeadlineMillis(), d.maxVoters(), d.fanOut());
  }
}
