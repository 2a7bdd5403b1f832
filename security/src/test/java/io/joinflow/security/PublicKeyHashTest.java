package io.joinflow.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublicKeyHashTest {
  /**
   * openssl-ca.crt was made by openssl, and the digest by openssl too:
   * {@code openssl x509 -in openssl-ca.crt -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256}.
   */
  private static final String OPENSSL_DIGEST = "33061ea36cb404357022b5ce3468d1b055e4504448a3e7782b5fd3f0f5501fc4";

  @Test
  void shouldHashTheSubjectPublicKeyInfoAsOpensslDoes() throws Exception {
    X509Certificate ca;
    try (InputStream in = PublicKeyHashTest.class.getResourceAsStream("/openssl-ca.crt")) {
      ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }

    assertThat(CertificateAuthority.publicKeyHash(ca)).isEqualTo("sha256:" + OPENSSL_DIGEST);
  }

  @Test
  void shouldNameTheKeyOfTheCaInADirectory(@TempDir Path dir) throws Exception {
    CertsDir certs = new CertsDir(dir);
    CertificateAuthority ca = certs.createCa("c1");
    CertsDir other = new CertsDir(dir.resolve("other"));
    other.createCa("c1");

    assertThat(certs.caHash()).matches("sha256:[0-9a-f]{64}")
        .isEqualTo(CertificateAuthority.publicKeyHash(ca.certificate()))
        .isNotEqualTo(other.caHash());
  }
}
