package io.joinflow.security;

import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.X509TrustManager;

/**
 * The cluster CA pinned by the SHA-256 of its SubjectPublicKeyInfo, written
 * {@code sha256:<64 hex digits>} like kubeadm's {@code --discovery-token-ca-cert-hash}: how an
 * empty node that has no CA certificate yet knows it talks to its cluster's gateway.
 */
public final class CaPin {
  private static final String PREFIX = "sha256:";

  private final byte[] hash;

  private CaPin(byte[] hash) {
    this.hash = hash;
  }

  /** The pin of {@code ca}: {@code sha256:} and the hex SHA-256 of its public key's DER (SPKI). */
  public static String of(X509Certificate ca) {
    return PREFIX + HexFormat.of().formatHex(JoinToken.sha256(ca.getPublicKey().getEncoded()));
  }

  /**
   * Parses {@code sha256:<hex>}.
   *
   * @throws IllegalArgumentException saying what the pin looks like and where to get it
   */
  public static CaPin parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (!t.startsWith(PREFIX) || !t.substring(PREFIX.length()).matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("--ca-hash must be sha256:<64 hex digits>, as joinflow cert ca-hash prints it");
    }
    return new CaPin(HexFormat.of().parseHex(t.substring(PREFIX.length())));
  }

  /** Whether {@code cert} is the pinned CA: a CA certificate whose public key has this hash. */
  public boolean matches(X509Certificate cert) {
    return cert.getBasicConstraints() >= 0
        && java.security.MessageDigest.isEqual(hash, JoinToken.sha256(cert.getPublicKey().getEncoded()));
  }

  @Override
  public String toString() {
    return PREFIX + HexFormat.of().formatHex(hash);
  }

  /**
   * A trust manager for one call to a server: it accepts the server's chain only if the chain
   * holds the pinned CA certificate and the server's certificate verifies against it (PKIX, with
   * the pinned CA as the only trust anchor). The CA it found is kept in {@code found}.
   */
  public X509TrustManager trustManager(AtomicReference<X509Certificate> found) {
    return new X509TrustManager() {
      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        X509Certificate ca = Arrays.stream(chain).filter(CaPin.this::matches).findFirst().orElseThrow(() ->
            new CertificateException("the server's certificate chain holds no CA certificate matching --ca-hash "
                + CaPin.this + "; check the hash with joinflow cert ca-hash where the CA lives"));
        anchoredAt(ca).checkServerTrusted(chain, authType);
        found.set(ca);
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a pinned CA is for calling a server, not for serving");
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
  }

  private static X509TrustManager anchoredAt(X509Certificate ca) throws CertificateException {
    try {
      return TlsIdentity.trustAnchoredAt(ca);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new CertificateException("cannot trust the pinned CA: " + e.getMessage(), e);
    }
  }
}
