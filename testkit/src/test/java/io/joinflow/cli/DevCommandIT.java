package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code joinflow dev --data-dir D} as a user runs it, in a process of its own on the Temporal
 * CLI's dev server: its endpoint line names the Temporal it uses; stopped (SIGTERM, as Ctrl-C
 * does) it takes its Temporal down with it; started again on the same {@code D} it shows the
 * joins of the first run in {@code joinflow joins} and {@code temporal workflow list}, from
 * Temporal's own durable history. It runs mutual TLS with a CA it made in {@code D/certs} on the
 * first start and reuses on the second; the operator commands reach it with that directory.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DevCommandIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldKeepEveryJoinsHistoryAcrossARestartOnTheSameDataDir(@TempDir Path dir) throws Exception {
    Path temporal = RequiredTool.temporal();
    int base = Ports.freeBase(40);
    Path data = dir.resolve("dev");

    JsonNode first = startDev(dir, data, base, temporal, "first");
    assertThat(first.get("temporal_mode").asText()).isEqualTo("cli");
    assertThat(first.get("temporal_address").asText()).isEqualTo("127.0.0.1:" + base);
    assertThat(first.get("temporal_namespace").asText()).isEqualTo("joinflow");
    assertThat(first.get("ui_url").asText()).isEqualTo("http://127.0.0.1:" + (base + 2));
    assertThat(first.get("tls").asBoolean()).isTrue();
    Path certs = Path.of(first.get("certs_dir").asText());
    assertThat(certs).isEqualTo(data.resolve("certs"));
    assertThat(first.get("ca_hash").asText()).isEqualTo(spkiSha256(certs.resolve("ca.crt")));
    assertThat(operator("status", certs, "--target", first.get("nodes").get(0).get("addr").asText(), "--json")
        .get("nodes")).hasSize(3);
    JsonNode joinsBefore = joins(base, certs);
    List<String> runsBefore = joinsBefore.get("runs").findValuesAsText("run_id");
    assertThat(joinsBefore.get("runs").findValuesAsText("workflow_id")).hasSize(2)
        .allSatisfy(id -> assertThat(id).startsWith("join/").matches(".*/(2|3)"));
    stop(base);

    JsonNode second = startDev(dir, data, base, temporal, "second");
    assertThat(second.get("temporal_mode").asText()).isEqualTo("cli");
    assertThat(second.get("ca_hash").asText()).as("the second start reuses the first one's CA")
        .isEqualTo(first.get("ca_hash").asText());
    JsonNode joinsAfter = joins(base, certs);
    assertThat(joinsAfter.get("source").asText()).isEqualTo("temporal");
    // The same runs: the restarted dev found nodes 2 and 3 joined and started no new join.
    assertThat(joinsAfter.get("runs").findValuesAsText("run_id")).containsExactlyInAnyOrderElementsOf(runsBefore);
    assertThat(joinsAfter.get("runs").findValuesAsText("phase")).containsOnly("done");
    String listed = temporalWorkflowList(temporal, base);
    for (String id : joinsBefore.get("runs").findValuesAsText("workflow_id")) {
      assertThat(listed).contains(id);
    }
    stop(base);
  }

  private JoinflowProcess dev;

  private JsonNode startDev(Path dir, Path data, int base, Path temporal, String name) throws Exception {
    dev = JoinflowProcess.start("dev (" + name + ")", dir.resolve("dev-" + name + ".log"), Map.of(), "dev", "--json",
        "--nodes", "3", "--groups", "2", "--port-base", String.valueOf(base), "--data-dir", data.toString(),
        "--temporal", "cli", "--temporal-cli", temporal.toString());
    assertThat(dev.awaitLine("\"gateway\"", Duration.ofMinutes(2))).as(dev.tail()).isTrue();
    String line = dev.logText().lines().filter(l -> l.startsWith("{\"gateway\"")).findFirst().orElseThrow();
    return JSON.readTree(line);
  }

  /** SIGTERM, as Ctrl-C: the dev server it started stops with it. */
  private void stop(int base) throws Exception {
    dev.close();
    assertThat(dev.isAlive()).isFalse();
    assertThat(TemporalChoice.answers(base)).as("no Temporal left on the dev's port\n" + dev.tail()).isFalse();
  }

  private static JsonNode joins(int base, Path certs) throws Exception {
    return operator("joins", certs, "--gateway", "127.0.0.1:" + (base + 1), "--json");
  }

  /** An operator command with the operator certificate of {@code certs}; its JSON output. */
  private static JsonNode operator(String command, Path certs, String... args) throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> all = new java.util.ArrayList<>(List.of(command, "--certs-dir", certs.toString()));
    all.addAll(List.of(args));
    assertThat(cli.execute(all.toArray(String[]::new))).as(err.toString()).isZero();
    return JSON.readTree(out.toString());
  }

  /** The CA pin computed apart from joinflow's: SHA-256 of the JDK's X.509 encoding of the public key. */
  private static String spkiSha256(Path caCert) throws Exception {
    java.security.cert.Certificate ca;
    try (var in = java.nio.file.Files.newInputStream(caCert)) {
      ca = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    return "sha256:" + java.util.HexFormat.of().formatHex(
        java.security.MessageDigest.getInstance("SHA-256").digest(ca.getPublicKey().getEncoded()));
  }

  private static String temporalWorkflowList(Path temporal, int base) throws Exception {
    Process p = new ProcessBuilder(temporal.toString(), "workflow", "list", "--address", "127.0.0.1:" + base,
        "--namespace", "joinflow", "--query", "WorkflowType='JoinWorkflow'").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
