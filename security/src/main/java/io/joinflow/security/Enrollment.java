package io.joinflow.security;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * An empty node getting its certificate from a gateway with a join token: it makes its own EC
 * P-256 key, sends only a PKCS#10 request for it, checks the certificate it gets back against
 * the pinned CA and writes key, certificate and CA certificate into its certificates directory.
 * The private key never leaves the node.
 */
public final class Enrollment {
  private final long nodeId;
  private final KeyPair pair;

  private Enrollment(long nodeId, KeyPair pair) {
    this.nodeId = nodeId;
    this.pair = pair;
  }

  /** A fresh key for node {@code nodeId}. */
  public static Enrollment start(long nodeId) {
    return new Enrollment(nodeId, CertificateAuthority.newKeyPair());
  }

  /** The certificate request (DER), signed by the node's key. */
  public byte[] csr() {
    try {
      return new JcaPKCS10CertificationRequestBuilder(new X500Name("O=joinflow,CN=node "
          + Long.toUnsignedString(nodeId)), pair.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())).getEncoded();
    } catch (OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot make a certificate request: " + e.getMessage(), e);
    }
  }

  /**
   * Checks the gateway's answer (the CA is the pinned one, the certificate is signed by it, is
   * for this key and names this node) and writes it into {@code dir}: {@code ca.crt} (kept when
   * it is already there and the same), {@code node.<id>.key} (0600) and {@code node.<id>.crt}.
   *
   * @throws IOException saying what is wrong with the answer, or which file is in the way
   */
  public TlsIdentity finish(CertsDir dir, CaPin pin, String certificatePem, String caPem) throws IOException {
    X509Certificate ca = Pem.parseCertificate(caPem, "the gateway's CA certificate");
    X509Certificate cert = Pem.parseCertificate(certificatePem, "the gateway's node certificate");
    if (!pin.matches(ca)) {
      throw new IOException("the gateway sent a CA certificate that does not match --ca-hash " + pin);
    }
    try {
      cert.verify(ca.getPublicKey());
      cert.checkValidity();
    } catch (GeneralSecurityException e) {
      throw new IOException("the gateway's node certificate does not verify against the pinned CA: " + e.getMessage(), e);
    }
    if (!cert.getPublicKey().equals(pair.getPublic())) {
      throw new IOException("the gateway's node certificate is for another key than this node's request");
    }
    PeerIdentity who = PeerIdentity.of(cert);
    if (who.role() != Role.NODE || who.nodeId() != nodeId || !who.cluster().equals(CertsDir.clusterOf(ca))) {
      throw new IOException("the gateway's certificate names " + who + ", not node " + Long.toUnsignedString(nodeId));
    }
    Files.createDirectories(dir.path());
    for (var file : java.util.List.of(dir.privateKey(Role.NODE, nodeId), dir.certificate(Role.NODE, nodeId))) {
      if (Files.exists(file)) {
        throw new FileAlreadyExistsException(file.toString(), null, "a node certificate is there already; use it"
            + " (without --token's bootstrap) or an empty --certs-dir");
      }
    }
    if (Files.exists(dir.caCertificate())) {
      if (!Pem.readCertificate(dir.caCertificate()).equals(ca)) {
        throw new FileAlreadyExistsException(dir.caCertificate().toString(), null,
            "holds another CA than the pinned one; use an empty --certs-dir");
      }
    } else {
      CertsDir.write(dir.caCertificate(), Pem.certificate(ca));
    }
    CertsDir.write(dir.privateKey(Role.NODE, nodeId), Pem.privateKey(pair.getPrivate()));
    CertsDir.write(dir.certificate(Role.NODE, nodeId), Pem.certificate(cert));
    return dir.identity(Role.NODE, nodeId);
  }
}
