package io.joinflow.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertsDirTest {
  @TempDir
  Path dir;

  @Test
  void issuesNodeAndClientCertificatesThatNameTheirIdentity() throws Exception {
    CertsDir certs = new CertsDir(dir);
    certs.createCa("prod-east");
    certs.issue(Role.NODE, 7, List.of("127.0.0.1", "db7.example.com"));
    certs.issue(Role.WORKER, 0, List.of());

    TlsIdentity node = certs.identity(Role.NODE, 7);
    assertThat(node.self()).isEqualTo(new PeerIdentity("prod-east", Role.NODE, 7));
    assertThat(node.self().uri()).hasToString("joinflow://prod-east/node/7");
    assertThat(node.certificate().getSubjectAlternativeNames()).extracting(san -> san.get(1).toString())
        .containsExactlyInAnyOrder("joinflow://prod-east/node/7", "127.0.0.1", "db7.example.com");
    node.certificate().verify(node.ca().getPublicKey());
    assertThat(certs.identity(Role.WORKER, 0).self()).isEqualTo(new PeerIdentity("prod-east", Role.WORKER, 0));
  }

  @Test
  void shouldNameANodeIdAbove2To63AsTheUnsignedNumberItIs() throws Exception {
    CertsDir certs = new CertsDir(dir);
    certs.createCa("c1");
    certs.issue(Role.NODE, -1L, List.of("127.0.0.1"));

    TlsIdentity node = certs.identity(Role.NODE, -1L);

    assertThat(node.self().uri()).hasToString("joinflow://c1/node/18446744073709551615");
    assertThat(node.self()).hasToString("node 18446744073709551615 of c1");
    assertThat(node.self().nodeId()).isEqualTo(-1L);
  }

  @Test
  void everyFileIsReadableByItsOwnerOnly() throws Exception {
    CertsDir certs = new CertsDir(dir);
    certs.createCa("c1");
    certs.issue(Role.OPERATOR, 0, List.of());
    try (var files = Files.list(dir)) {
      assertThat(files.toList()).hasSize(4).allSatisfy(f ->
          assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------"));
    }
  }

  @Test
  void neverOverwritesACaOrACertificate() throws Exception {
    CertsDir certs = new CertsDir(dir);
    certs.createCa("c1");
    String ca = Files.readString(certs.caCertificate());
    assertThatThrownBy(() -> certs.createCa("c1")).isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining("already holds a CA");
    certs.issue(Role.NODE, 1, List.of("localhost"));
    assertThatThrownBy(() -> certs.issue(Role.NODE, 1, List.of("localhost")))
        .isInstanceOf(FileAlreadyExistsException.class).hasMessageContaining("node 1 of c1");
    assertThat(Files.readString(certs.caCertificate())).isEqualTo(ca);
  }

  @Test
  void saysWhatToRunWhenAFileIsMissing() throws Exception {
    CertsDir certs = new CertsDir(dir);
    assertThatThrownBy(() -> certs.issue(Role.NODE, 1, List.of())).isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("joinflow cert create-ca");
    certs.createCa("c1");
    assertThatThrownBy(() -> certs.identity(Role.NODE, 3)).isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("joinflow cert create-node --node-id 3");
  }

  @Test
  void refusesClusterNamesThatAreNotDnsLabels() {
    assertThatThrownBy(() -> new CertsDir(dir).createCa("Prod/East")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("DNS label");
  }

  @Test
  void parsesOnlyWellFormedIdentities() {
    assertThat(PeerIdentity.parse(java.net.URI.create("joinflow://c1/gateway")))
        .isEqualTo(new PeerIdentity("c1", Role.GATEWAY, 0));
    assertThatThrownBy(() -> PeerIdentity.parse(java.net.URI.create("joinflow://c1/node")))
        .hasMessageContaining("joinflow://<cluster>/node/<id>");
    assertThatThrownBy(() -> PeerIdentity.parse(java.net.URI.create("joinflow://c1/root")))
        .hasMessageContaining("unknown role");
    assertThatThrownBy(() -> PeerIdentity.parse(java.net.URI.create("https://c1/worker")))
        .hasMessageContaining("not a joinflow identity");
  }
}
