package io.joinflow.security;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * One cluster's certificate authority: an ECDSA P-256 key and a self-signed CA certificate that
 * names the cluster. It issues node and client certificates whose URI SAN carries the holder's
 * {@link PeerIdentity}, and DNS/IP SANs for the hosts a server listens on.
 */
public final class CertificateAuthority {
  private static final Pattern CLUSTER_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final String SIGNATURE = "SHA256withECDSA";

  private final String cluster;
  private final PrivateKey key;
  private final X509Certificate cert;

  CertificateAuthority(String cluster, PrivateKey key, X509Certificate cert) {
    this.cluster = cluster;
    this.key = key;
    this.cert = cert;
  }

  /** A new CA for {@code cluster} (lower-case letters, digits and dashes, as a DNS label). */
  public static CertificateAuthority create(String cluster, Duration validity) {
    if (!CLUSTER_NAME.matcher(cluster).matches()) {
      throw new IllegalArgumentException("cluster name '" + cluster
          + "' must be 1-63 lower-case letters, digits or dashes (a DNS label)");
    }
    KeyPair pair = newKeyPair();
    X500Name name = new X500Name("O=joinflow,CN=joinflow CA " + cluster);
    try {
      X509v3CertificateBuilder b = builder(name, name, pair.getPublic(), validity);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      return new CertificateAuthority(cluster, pair.getPrivate(), sign(b, pair.getPrivate()));
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot create the CA certificate: " + e.getMessage(), e);
    }
  }

  public String cluster() {
    return cluster;
  }

  public X509Certificate certificate() {
    return cert;
  }

  /** A certificate in PEM, as it is written to files and sent to an enrolling node. */
  public static String pem(X509Certificate certificate) {
    return Pem.certificate(certificate);
  }

  PrivateKey privateKey() {
    return key;
  }

  /**
   * The pin of a CA certificate: {@code sha256:} and the lower-case hex SHA-256 of its DER
   * SubjectPublicKeyInfo, as kubeadm's {@code --discovery-token-ca-cert-hash} spells it. It names
   * the CA's key, not the certificate, so a CA certificate re-issued for the same key keeps it.
   */
  public static String publicKeyHash(X509Certificate ca) {
    return CaPin.of(ca);
  }

  /** A key and certificate for {@code who}, valid for {@code hosts} (DNS names or IP literals). */
  public Issued issue(PeerIdentity who, List<String> hosts, Duration validity) {
    if (!who.cluster().equals(cluster)) {
      throw new IllegalArgumentException("this CA issues for cluster " + cluster + ", not " + who.cluster());
    }
    KeyPair pair = newKeyPair();
    return new Issued(who, pair.getPrivate(), certify(who, pair.getPublic(), hosts, validity));
  }

  /**
   * A certificate for {@code who} over the public key of a PKCS#10 request (the holder keeps its
   * private key): the request must carry a valid signature by that key (proof of possession) and
   * an EC P-256 key. The request's subject and extensions are ignored: the identity and hosts are
   * the ones given here.
   *
   * @throws IllegalArgumentException when the request is unreadable, unsigned or of another key type
   */
  public X509Certificate sign(PeerIdentity who, byte[] pkcs10, List<String> hosts, Duration validity) {
    if (!who.cluster().equals(cluster)) {
      throw new IllegalArgumentException("this CA issues for cluster " + cluster + ", not " + who.cluster());
    }
    PublicKey publicKey;
    try {
      org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest csr =
          new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest(pkcs10);
      publicKey = java.security.KeyFactory.getInstance("EC").generatePublic(
          new java.security.spec.X509EncodedKeySpec(csr.getSubjectPublicKeyInfo().getEncoded()));
      if (!csr.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
          .build(publicKey))) {
        throw new IllegalArgumentException("the certificate request's signature does not verify with its key");
      }
    } catch (java.io.IOException | RuntimeException | GeneralSecurityException | OperatorCreationException
             | org.bouncycastle.pkcs.PKCSException e) {
      if (e instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalArgumentException("the certificate request is not a readable PKCS#10 request: " + e.getMessage(), e);
    }
    if (!(publicKey instanceof java.security.interfaces.ECPublicKey ec)
        || ec.getParams().getCurve().getField().getFieldSize() != 256) {
      throw new IllegalArgumentException("the certificate request must be for an EC P-256 key");
    }
    return certify(who, publicKey, hosts, validity);
  }

  private X509Certificate certify(PeerIdentity who, PublicKey publicKey, List<String> hosts, Duration validity) {
    X500Name subject = new X500Name("O=joinflow,OU=" + who.role().label() + ",CN=" + who);
    X500Name issuer = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    List<GeneralName> names = new ArrayList<>();
    names.add(new GeneralName(GeneralName.uniformResourceIdentifier, who.uri().toString()));
    for (String h : hosts) {
      names.add(isIpLiteral(h) ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h));
    }
    try {
      X509v3CertificateBuilder b = builder(issuer, subject, publicKey, validity);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(cert));
      return sign(b, key);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot issue a certificate for " + who + ": " + e.getMessage(), e);
    }
  }

  /** What {@link #issue} returns: the holder's identity, private key and certificate. */
  public record Issued(PeerIdentity identity, PrivateKey key, X509Certificate certificate) {
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, PublicKey publicKey,
                                                  Duration validity) {
    Instant now = Instant.now();
    BigInteger serial = new BigInteger(128, new SecureRandom());
    // Backdated a minute so that peers whose clocks run slightly behind accept a fresh certificate.
    return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(now.minusSeconds(60)),
        Date.from(now.plus(validity)), subject, publicKey);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
    try {
      ContentSigner s = new JcaContentSignerBuilder(SIGNATURE).build(signer);
      return new JcaX509CertificateConverter().getCertificate(b.build(s));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot generate P-256 keys: " + e.getMessage(), e);
    }
  }

  static boolean isIpLiteral(String host) {
    if (host.contains(":")) {
      return true;
    }
    if (!host.matches("[0-9.]+")) {
      return false;
    }
    try {
      return InetAddress.getByName(host).getHostAddress().equals(host);
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}
