package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.node.NodeStartException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --metrics-listen} on every long-running command: a bad address is refused with exit 2 and a sentence. */
class MetricsOptionsTest {
  @TempDir
  Path dir;

  private final StringWriter err = new StringWriter();

  private int run(CommandLine cli, String... args) {
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));
    return cli.execute(args);
  }

  private int joinflow(String... args) {
    return run(Main.commandLine(), args);
  }

  @Test
  void shouldRefuseAMalformedAddressOnEveryCommand() {
    assertThat(joinflow("worker", "--nodes", "127.0.0.1:1", "--temporal", "embedded", "--metrics-listen", "nowhere"))
        .isEqualTo(2);
    assertThat(joinflow("gateway", "--listen", "127.0.0.1:1", "--nodes", "127.0.0.1:1", "--temporal", "embedded",
        "--metrics-listen", "127.0.0.1:99999")).isEqualTo(2);
    assertThat(joinflow("dev", "--temporal", "embedded", "--metrics-listen", "::1:80")).isEqualTo(2);

    assertThat(err.toString().lines()).containsExactly(
        "joinflow worker: --metrics-listen: 'nowhere' is not host:port",
        "joinflow gateway: --metrics-listen: '127.0.0.1:99999' has port 99999; use 1-65535",
        "joinflow dev: --metrics-listen: '::1:80': write IPv6 hosts in brackets, as [::1]:7100 (or off)");
  }

  @Test
  void shouldRefuseAMalformedAddressOnANodeBeforeStartingIt() {
    boolean[] started = {false};
    CommandLine cli = new CommandLine(new NodeCommand(config -> {
      started[0] = true;
      throw new NodeStartException("refused by the test");
    }));

    int code = run(cli, "--node-id", "4", "--listen", "127.0.0.1:7140", "--data-dir", dir.toString(),
        "--metrics-listen", "7142", "--insecure");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("joinflow node: --metrics-listen: '7142' is not host:port"
        + System.lineSeparator());
    assertThat(started[0]).isFalse();
  }

  @Test
  void shouldSayWhichAddressIsTakenWhenItCannotBeBound() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      boolean[] started = {false};
      CommandLine cli = new CommandLine(new NodeCommand(config -> {
        started[0] = true;
        throw new NodeStartException("refused by the test");
      }));

      int code = run(cli, "--node-id", "4", "--listen", "127.0.0.1:7140", "--data-dir", dir.toString(),
          "--metrics-listen", "127.0.0.1:" + taken.getLocalPort(), "--insecure");

      assertThat(code).isEqualTo(1);
      assertThat(err.toString()).startsWith("joinflow node: cannot serve metrics on 127.0.0.1:" + taken.getLocalPort())
          .contains("pass a free --metrics-listen HOST:PORT");
      assertThat(started[0]).isFalse();
    }
  }
}
