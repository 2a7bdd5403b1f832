package io.joinflow.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pieces of a node's certificate bootstrap, without the network: pin, request, signature, files. */
class EnrollmentTest {
  @TempDir
  Path tmp;

  @Test
  void shouldPinTheCaByTheHashOfItsPublicKey() throws Exception {
    CertificateAuthority ca = new CertsDir(tmp.resolve("ca")).createCa("pinned");
    String pin = CaPin.of(ca.certificate());
    assertThat(pin).matches("sha256:[0-9a-f]{64}");
    assertThat(CaPin.parse(pin.toUpperCase().replace("SHA256", "sha256")).matches(ca.certificate())).isTrue();
    CertificateAuthority other = CertificateAuthority.create("pinned", Duration.ofDays(1));
    assertThat(CaPin.parse(pin).matches(other.certificate())).isFalse();
    for (String bad : new String[] {"", "sha256:", "md5:" + pin.substring(7), pin + "0", "sha256:xyz"}) {
      assertThatThrownBy(() -> CaPin.parse(bad)).as(bad).hasMessageContaining("joinflow cert ca-hash");
    }
  }

  @Test
  void shouldTrustOnlyAChainThatHoldsThePinnedCaAndVerifiesAgainstIt() throws Exception {
    CertificateAuthority ca = new CertsDir(tmp.resolve("ca")).createCa("pinned");
    X509Certificate gateway = ca.issue(new PeerIdentity("pinned", Role.GATEWAY, 0), List.of("127.0.0.1"),
        Duration.ofDays(1)).certificate();
    CaPin pin = CaPin.parse(CaPin.of(ca.certificate()));
    AtomicReference<X509Certificate> found = new AtomicReference<>();
    pin.trustManager(found).checkServerTrusted(new X509Certificate[] {gateway, ca.certificate()}, "ECDHE_ECDSA");
    assertThat(found.get()).isEqualTo(ca.certificate());
    // Without the CA in the chain, or with a leaf of another CA next to the pinned one: refused.
    assertThatThrownBy(() -> pin.trustManager(new AtomicReference<>())
        .checkServerTrusted(new X509Certificate[] {gateway}, "ECDHE_ECDSA"))
        .isInstanceOf(CertificateException.class).hasMessageContaining("--ca-hash");
    CertificateAuthority rogue = CertificateAuthority.create("pinned", Duration.ofDays(1));
    X509Certificate rogueLeaf = rogue.issue(new PeerIdentity("pinned", Role.GATEWAY, 0), List.of("127.0.0.1"),
        Duration.ofDays(1)).certificate();
    assertThatThrownBy(() -> pin.trustManager(new AtomicReference<>())
        .checkServerTrusted(new X509Certificate[] {rogueLeaf, ca.certificate()}, "ECDHE_ECDSA"))
        .isInstanceOf(CertificateException.class);
  }

  @Test
  void shouldSignTheRequestForTheGivenNodeAndStoreKeyCertificateAndCa() throws Exception {
    CertificateAuthority ca = new CertsDir(tmp.resolve("ca")).createCa("pinned");
    Enrollment enrollment = Enrollment.start(7);
    X509Certificate cert = ca.sign(new PeerIdentity("pinned", Role.NODE, 7), enrollment.csr(), List.of("10.0.0.7"),
        CertsDir.CERT_VALIDITY);
    assertThat(PeerIdentity.of(cert)).isEqualTo(new PeerIdentity("pinned", Role.NODE, 7));
    CertsDir node = new CertsDir(tmp.resolve("node"));
    CaPin pin = CaPin.parse(CaPin.of(ca.certificate()));
    TlsIdentity identity = enrollment.finish(node, pin, CertificateAuthority.pem(cert),
        CertificateAuthority.pem(ca.certificate()));
    assertThat(identity.self().nodeId()).isEqualTo(7);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(node.privateKey(Role.NODE, 7))))
        .isEqualTo("rw-------");
    assertThat(node.caWithKey()).isEmpty();
    // Never overwritten.
    assertThatThrownBy(() -> enrollment.finish(node, pin, CertificateAuthority.pem(cert),
        CertificateAuthority.pem(ca.certificate()))).hasMessageContaining("a node certificate is there already").isInstanceOf(
            java.nio.file.FileAlreadyExistsException.class);
  }

  @Test
  void shouldRefuseAnAnswerForAnotherKeyNodeOrCa() throws Exception {
    CertificateAuthority ca = new CertsDir(tmp.resolve("ca")).createCa("pinned");
    CaPin pin = CaPin.parse(CaPin.of(ca.certificate()));
    Enrollment mine = Enrollment.start(7);
    X509Certificate forAnotherKey = ca.sign(new PeerIdentity("pinned", Role.NODE, 7), Enrollment.start(7).csr(),
        List.of("h"), Duration.ofDays(1));
    X509Certificate forAnotherNode = ca.sign(new PeerIdentity("pinned", Role.NODE, 8), mine.csr(), List.of("h"),
        Duration.ofDays(1));
    CertsDir node = new CertsDir(tmp.resolve("node"));
    String caPem = CertificateAuthority.pem(ca.certificate());
    assertThatThrownBy(() -> mine.finish(node, pin, CertificateAuthority.pem(forAnotherKey), caPem))
        .hasMessageContaining("another key");
    assertThatThrownBy(() -> mine.finish(node, pin, CertificateAuthority.pem(forAnotherNode), caPem))
        .hasMessageContaining("not node 7");
    CertificateAuthority rogue = CertificateAuthority.create("pinned", Duration.ofDays(1));
    assertThatThrownBy(() -> mine.finish(node, pin, CertificateAuthority.pem(forAnotherNode),
        CertificateAuthority.pem(rogue.certificate()))).hasMessageContaining("does not match --ca-hash");
    assertThat(Files.exists(node.privateKey(Role.NODE, 7))).isFalse();
  }

  @Test
  void shouldRefuseARequestThatIsNotASignedP256Request() {
    CertificateAuthority ca = CertificateAuthority.create("pinned", Duration.ofDays(1));
    assertThatThrownBy(() -> ca.sign(new PeerIdentity("pinned", Role.NODE, 7), new byte[] {1, 2, 3}, List.of(),
        Duration.ofDays(1))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PKCS#10");
  }
}
