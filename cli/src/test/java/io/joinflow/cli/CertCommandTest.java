package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.joinflow.security.CertsDir;
import io.joinflow.security.PeerIdentity;
import io.joinflow.security.Role;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CertCommandTest {
  @TempDir
  Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int joinflow(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void createsACaThenNodeAndClientCertificates() throws Exception {
    String certs = dir.resolve("certs").toString();
    assertThat(joinflow("cert", "create-ca", "--certs-dir", certs, "--cluster", "east")).isEqualTo(0);
    assertThat(joinflow("cert", "create-node", "--certs-dir", certs, "--node-id", "4", "--host", "127.0.0.1,db4"))
        .isEqualTo(0);
    assertThat(out.toString()).contains("created node 4 certificate (joinflow://east/node/4):",
        Path.of(certs, "node.4.crt").toString());
    out.getBuffer().setLength(0);
    assertThat(joinflow("cert", "create-client", "--certs-dir", certs, "--role", "operator", "--json")).isEqualTo(0);
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertThat(json.get("identity").asText()).isEqualTo("joinflow://east/operator");
    assertThat(json.get("files")).hasSize(2);
    assertThat(err.toString()).isEmpty();

    CertsDir read = new CertsDir(Path.of(certs));
    assertThat(read.identity(Role.NODE, 4).self()).isEqualTo(new PeerIdentity("east", Role.NODE, 4));
    assertThat(read.identity(Role.OPERATOR, 0).self()).isEqualTo(new PeerIdentity("east", Role.OPERATOR, 0));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(certs, "node.4.key"))))
        .isEqualTo("rw-------");
  }

  @Test
  void printsTheCaHashNodesPinWhenTheyBootstrapWithAToken() throws Exception {
    String certs = dir.resolve("certs").toString();
    assertThat(joinflow("cert", "create-ca", "--certs-dir", certs, "--cluster", "east", "--json")).isEqualTo(0);
    String created = new ObjectMapper().readTree(out.toString()).get("ca_hash").asText();
    assertThat(created).isEqualTo(io.joinflow.security.CaPin.of(new CertsDir(Path.of(certs)).readCaCertificate()));
    out.getBuffer().setLength(0);
    assertThat(joinflow("cert", "ca-hash", "--certs-dir", certs)).isEqualTo(0);
    assertThat(out.toString().strip()).isEqualTo(created);
    out.getBuffer().setLength(0);
    assertThat(joinflow("cert", "ca-hash", "--certs-dir", certs, "--json")).isEqualTo(0);
    assertThat(new ObjectMapper().readTree(out.toString()).get("ca_hash").asText()).isEqualTo(created);
    assertThat(joinflow("cert", "ca-hash", "--certs-dir", dir.resolve("none").toString())).isEqualTo(1);
    assertThat(err.toString()).contains("no CA certificate here");
  }

  @Test
  void saysWhatIsWrongAndChangesNothing() throws Exception {
    String certs = dir.resolve("certs").toString();
    assertThat(joinflow("cert", "create-node", "--certs-dir", certs, "--node-id", "1", "--host", "h")).isEqualTo(1);
    assertThat(err.toString()).contains("joinflow cert create-node:", "run joinflow cert create-ca");
    assertThat(joinflow("cert", "create-ca", "--certs-dir", certs)).isEqualTo(0);
    String ca = Files.readString(Path.of(certs, "ca.crt"));
    assertThat(joinflow("cert", "create-ca", "--certs-dir", certs)).isEqualTo(1);
    assertThat(err.toString()).contains("already holds a CA");
    assertThat(Files.readString(Path.of(certs, "ca.crt"))).isEqualTo(ca);
    assertThat(joinflow("cert", "create-client", "--certs-dir", certs, "--role", "root")).isEqualTo(2);
    assertThat(err.toString()).contains("unknown role 'root'");
    assertThat(joinflow("cert", "create-node", "--certs-dir", certs, "--node-id", "0", "--host", "h")).isEqualTo(2);
    assertThat(err.toString()).contains("--node-id must be a non-zero");
    try (var files = Files.list(Path.of(certs))) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("ca.crt", "ca.key");
    }
  }
}
