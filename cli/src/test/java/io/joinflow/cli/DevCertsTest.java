package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.security.PeerIdentity;
import io.joinflow.security.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevCertsTest {
  @TempDir
  Path dir;

  @Test
  void shouldMakeACaAndTheClientCertificatesOnTheFirstStart() throws Exception {
    DevCerts certs = DevCerts.open(dir.resolve("certs"));

    try (var files = Files.list(certs.path())) {
      assertThat(files.map(f -> f.getFileName().toString()).sorted().toList()).containsExactly("ca.crt", "ca.key",
          "client.crt", "client.key", "gateway.crt", "gateway.key", "operator.crt", "operator.key", "worker.crt",
          "worker.key");
    }
    try (var files = Files.list(certs.path())) {
      assertThat(files.toList()).allSatisfy(f ->
          assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------"));
    }
    assertThat(certs.channels(Role.OPERATOR).identity().self())
        .isEqualTo(new PeerIdentity(DevCerts.CLUSTER, Role.OPERATOR, 0));
    assertThat(certs.caHash()).matches("sha256:[0-9a-f]{64}");
  }

  @Test
  void shouldReuseTheCaAndEveryCertificateWhenStartedAgain() throws Exception {
    DevCerts first = DevCerts.open(dir);
    String node3 = first.node(3).certificate().getSerialNumber().toString();
    String operator = Files.readString(dir.resolve("operator.crt"));

    DevCerts again = DevCerts.open(dir);

    assertThat(again.caHash()).isEqualTo(first.caHash());
    assertThat(again.node(3).certificate().getSerialNumber()).hasToString(node3);
    assertThat(Files.readString(dir.resolve("operator.crt"))).isEqualTo(operator);
    assertThat(again.node(4).self()).isEqualTo(new PeerIdentity(DevCerts.CLUSTER, Role.NODE, 4));
    assertThat(again.node(4).certificate().getSubjectAlternativeNames()).extracting(san -> san.get(1).toString())
        .contains("127.0.0.1", "localhost");
  }
}
