package io.joinflow.cli;

import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code joinflow} command. Exit codes: 0 success, 1 the operation failed, 2 bad input.
 */
@Command(name = "joinflow", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Runs and inspects joinflow cluster nodes.",
    subcommands = {NodeCommand.class, StatusCommand.class, DevCommand.class, DemoCommand.class,
        WorkerCommand.class, GatewayCommand.class, JoinsCommand.class, LeaveCommand.class, BenchCommand.class, CertCommand.class,
        TokenCommand.class})
public final class Main implements Runnable {

  @Spec
  private CommandSpec spec;

  public static void main(String[] args) {
    // gRPC (and the gRPC shaded into Ratis) log through java.util.logging, which would
    // otherwise bypass logback.xml and its levels.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    CommandLog.untilExit();
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line {@link #main} runs: usage errors of any subcommand are reported as one
   * line prefixed with the command's name, like the commands' own validation errors.
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setParameterExceptionHandler((ex, args) -> {
      CommandLine failed = ex.getCommandLine();
      String name = failed.getCommandSpec().qualifiedName();
      failed.getErr().println(name + ": " + ex.getMessage() + " (see " + name + " --help)");
      failed.getErr().flush();
      return failed.getCommandSpec().exitCodeOnInvalidInput();
    });
    return cli;
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "name a subcommand: demo, dev, node, status, worker, gateway, joins, leave, bench, cert or token");
  }

  /** The version stamped into the jar's manifest by the build. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"joinflow " + (v == null ? "(unpackaged build)" : v)};
    }
  }
}
