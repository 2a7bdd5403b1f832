package io.joinflow.cli;

import io.joinflow.proto.HostPort;
import static org.assertj.core.api.Assertions.assertThat;


import io.joinflow.node.NodeConfig;
import io.joinflow.node.NodeStartException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class NodeCommandTest {
  @TempDir
  Path dir;

  private final List<NodeConfig> started = new ArrayList<>();
  private final StringWriter err = new StringWriter();
  private final StringWriter out = new StringWriter();

  /** Records what would be started and refuses, so no node ever runs and call() returns. */
  private int run(String... args) {
    return runWith(concat(args, "--insecure"));
  }

  private static String[] concat(String[] args, String... more) {
    String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return all;
  }

  private int runWith(String... args) {
    CommandLine cli = new CommandLine(new NodeCommand(config -> {
      started.add(config);
      throw new NodeStartException("refused by the test; nothing to fix");
    }));
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(out, true));
    return cli.execute(args);
  }

  @Test
  void nodeIdZeroIsBadInput() {
    int code = run("--node-id", "0", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(
        "joinflow node: --node-id must be a non-zero unsigned 64-bit integer, not '0'" + System.lineSeparator());
    assertThat(started).isEmpty();
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void negativeNodeIdIsBadInput() {
    int code = run("--node-id", "-3", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).startsWith("joinflow node: --node-id must be a non-zero unsigned");
    assertThat(started).isEmpty();
  }

  @Test
  void nodeIdBeyondUnsigned64BitsIsBadInput() {
    int code = run("--node-id", "18446744073709551616", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("joinflow node: --node-id must be a non-zero unsigned 64-bit integer, not"
        + " '18446744073709551616'" + System.lineSeparator());
    assertThat(started).isEmpty();
  }

  @Test
  void malformedListenIsBadInput() {
    int code = run("--node-id", "1", "--listen", "127.0.0.1", "--data-dir", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(
        "joinflow node: --listen: '127.0.0.1' is not host:port" + System.lineSeparator());
    assertThat(started).isEmpty();
  }

  @Test
  void groupsOutOfRangeIsBadInput() {
    int code = run("--node-id", "1", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString(),
        "--groups", "0");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).startsWith("joinflow node: --groups must be 1..1024, not 0");
    assertThat(started).isEmpty();
  }

  @Test
  void raftListenEqualToListenIsBadInput() {
    int code = run("--node-id", "1", "--listen", "127.0.0.1:7101", "--raft-listen", "127.0.0.1:7101",
        "--data-dir", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).startsWith("joinflow node: --listen and --raft-listen must differ");
    assertThat(started).isEmpty();
  }

  @Test
  void defaultsRaftListenToNextPortAndGroupsToTheNodeDefault() {
    int code = run("--node-id", "18446744073709551615", "--listen", "127.0.0.1:7101",
        "--data-dir", dir.toString(), "--bootstrap");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).isEqualTo("joinflow node: " + SecurityOptions.insecureWarning("node 18446744073709551615")
        + System.lineSeparator() + "joinflow node: refused by the test; nothing to fix" + System.lineSeparator());
    assertThat(started).hasSize(1);
    NodeConfig config = started.get(0);
    assertThat(config.nodeId()).isEqualTo(-1L);
    assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 7101));
    assertThat(config.raftListen()).isEqualTo(new HostPort("127.0.0.1", 7102));
    assertThat(config.dataDir()).isEqualTo(dir);
    assertThat(config.bootstrap()).isTrue();
    assertThat(config.dataGroups()).isEqualTo(NodeConfig.DEFAULT_DATA_GROUPS);
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void aNodeNeedsCertificatesOrAnExplicitInsecure() {
    int code = runWith("--node-id", "1", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("joinflow node: pass --certs-dir DIR for mutual TLS (certificates from"
        + " joinflow cert), or --insecure to serve plaintext to anyone who reaches the port" + System.lineSeparator());
    assertThat(started).isEmpty();
  }

  @Test
  void aNodeWithCertificatesServesMutualTls() throws Exception {
    Path certs = dir.resolve("certs");
    io.joinflow.security.CertsDir d = new io.joinflow.security.CertsDir(certs);
    d.createCa("c1");
    assertThat(runWith("--node-id", "2", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString(),
        "--certs-dir", certs.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--certs-dir " + certs + ": no node.2 certificate",
        "joinflow cert create-node --node-id 2");
    assertThat(started).isEmpty();

    err.getBuffer().setLength(0);
    d.issue(io.joinflow.security.Role.NODE, 2, List.of("127.0.0.1"));
    assertThat(runWith("--node-id", "2", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString(),
        "--certs-dir", certs.toString())).isEqualTo(1);
    assertThat(started).singleElement().satisfies(c -> {
      assertThat(c.secure()).isTrue();
      assertThat(c.tls().self().toString()).isEqualTo("node 2 of c1");
    });
    assertThat(err.toString()).isEqualTo("joinflow node: refused by the test; nothing to fix" + System.lineSeparator());
  }

  @Test
  void theRealCommandLineRejectsNodeIdZeroBeforeStartingAnything() {
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));

    int code = cli.execute("node", "--node-id", "0", "--listen", "127.0.0.1:7101",
        "--data-dir", dir.resolve("never-created").toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).startsWith("joinflow node: --node-id must be a non-zero");
    // Node.start creates the data dir first thing: its absence shows no start was attempted.
    assertThat(dir.resolve("never-created")).doesNotExist();
  }

  @Test
  void usageErrorsAreOneLineWithTheCommandName() {
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));

    int code = cli.execute("node", "--node-id", "1", "--listen", "127.0.0.1:7101");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString().lines()).singleElement().asString()
        .startsWith("joinflow node: Missing required option: '--data-dir=DIR'");
  }

  @Test
  void aTokenIsForJoiningAndACaHashNeedsATokenAndAGateway() {
    String[] base = {"--node-id", "4", "--listen", "127.0.0.1:7141", "--data-dir", dir.toString()};
    assertThat(run(concat(base, "--token", "abc123.0123456789abcdef"))).isEqualTo(2);
    assertThat(err.toString()).contains("--token is for joining: pass --join GATEWAY too");
    err.getBuffer().setLength(0);
    assertThat(runWith(concat(base, "--ca-hash", "sha256:00"))).isEqualTo(2);
    assertThat(err.toString()).contains("--ca-hash must be sha256:<64 hex digits>, as joinflow cert ca-hash prints it");
    err.getBuffer().setLength(0);
    String hash = "sha256:" + "a".repeat(64);
    assertThat(runWith(concat(base, "--ca-hash", hash))).isEqualTo(2);
    assertThat(err.toString()).contains("--ca-hash fetches a certificate with a join token: pass --token and --join too");
    err.getBuffer().setLength(0);
    assertThat(run(concat(base, "--ca-hash", hash, "--token", "abc123.0123456789abcdef", "--join", "127.0.0.1:1")))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--ca-hash is for a secure node; it contradicts --insecure");
    assertThat(started).isEmpty();
    assertThat(dir.resolve("certs")).doesNotExist();
  }

  @Test
  void readsTheJoinTokenFromAFileSoItStaysOutOfPs() throws Exception {
    Path file = java.nio.file.Files.writeString(dir.resolve("token"), "abcdef.0123456789abcdef\n");
    // Read from the file: the token then needs --join, as one on the command line does.
    int code = run("--node-id", "4", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString(),
        "--token-file", file.toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("joinflow node: --token is for joining: pass --join GATEWAY too"
        + System.lineSeparator());

    err.getBuffer().setLength(0);
    Path empty = java.nio.file.Files.writeString(dir.resolve("empty"), "\n");
    assertThat(run("--node-id", "4", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString(),
        "--token-file", empty.toString())).isEqualTo(2);
    assertThat(err.toString()).startsWith("joinflow node: --token-file " + empty + " holds no token");

    err.getBuffer().setLength(0);
    assertThat(run("--node-id", "4", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString(),
        "--token-file", file.toString(), "--token", "abcdef.0123456789abcdef")).isEqualTo(2);
    assertThat(err.toString()).startsWith("joinflow node: the join token comes from --token or from --token-file");

    err.getBuffer().setLength(0);
    assertThat(run("--node-id", "4", "--listen", "127.0.0.1:7101", "--data-dir", dir.toString(),
        "--token-file", dir.resolve("missing").toString())).isEqualTo(2);
    assertThat(err.toString()).startsWith("joinflow node: --token-file " + dir.resolve("missing") + " cannot be read");
    assertThat(started).isEmpty();
  }
}
