package io.joinflow.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a command's log goes: every command has these options ({@link CommandLog}). */
final class LogOptions {
  @Option(names = "--verbose",
      description = "Print the full log on stderr too (as the log file gets it), not only joinflow's warnings.")
  boolean verbose;

  @Option(names = "--log-file", paramLabel = "FILE",
      description = "Write the full log to FILE (default: " + CommandLog.FILE_NAME + " in the command's data dir, where"
          + " it has one; otherwise the log goes to stderr).")
  Path logFile;

  /**
   * Opens the command's log: {@code --log-file}, else {@code defaultFile} (null: none, the
   * terminal gets the log).
   */
  CommandLog open(Path defaultFile, PrintWriter terminal) {
    return open(defaultFile, CommandLog.Terminal.WARNINGS, terminal);
  }

  CommandLog open(Path defaultFile, CommandLog.Terminal shown, PrintWriter terminal) {
    return CommandLog.open(logFile != null ? logFile : defaultFile, verbose, shown, terminal);
  }

  /**
   * The log of a service (worker, gateway): without a file (no {@code --log-file}, no
   * {@code defaultFile}) all of it goes to stderr, which is where a supervisor collects a
   * service's log; with one, as any command's.
   */
  CommandLog openService(Path defaultFile, PrintWriter terminal) {
    Path file = logFile != null ? logFile : defaultFile;
    return CommandLog.open(file, verbose || file == null, CommandLog.Terminal.WARNINGS, terminal);
  }
}
