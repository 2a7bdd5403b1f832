package io.joinflow.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/**
 * A certificates directory, laid out like {@code cockroach cert}'s: {@code ca.crt} and
 * {@code ca.key}; {@code node.<id>.crt}/{@code .key} per node; {@code <role>.crt}/{@code .key}
 * per client role. Every file is written with mode 0600 and never overwritten.
 */
public final class CertsDir {
  public static final Duration CA_VALIDITY = Duration.ofDays(10 * 365);
  public static final Duration CERT_VALIDITY = Duration.ofDays(365);

  private final Path dir;

  public CertsDir(Path dir) {
    this.dir = dir;
  }

  public Path path() {
    return dir;
  }

  public Path caCertificate() {
    return dir.resolve("ca.crt");
  }

  Path caKey() {
    return dir.resolve("ca.key");
  }

  /** The certificate file of an identity: {@code node.<id>.crt} or {@code <role>.crt}. */
  public Path certificate(Role role, long nodeId) {
    return dir.resolve(base(role, nodeId) + ".crt");
  }

  public Path privateKey(Role role, long nodeId) {
    return dir.resolve(base(role, nodeId) + ".key");
  }

  private static String base(Role role, long nodeId) {
    return role == Role.NODE ? "node." + Long.toUnsignedString(nodeId) : role.label();
  }

  /** Creates the CA; refuses when this directory already holds one. */
  public CertificateAuthority createCa(String cluster) throws IOException {
    CertificateAuthority ca = CertificateAuthority.create(cluster, CA_VALIDITY);
    Files.createDirectories(dir);
    if (Files.exists(caCertificate()) || Files.exists(caKey())) {
      throw new FileAlreadyExistsException(caCertificate().toString(), null,
          "this directory already holds a CA; use another --certs-dir or remove the old CA first");
    }
    write(caKey(), Pem.privateKey(ca.privateKey()));
    write(caCertificate(), Pem.certificate(ca.certificate()));
    return ca;
  }

  /** The CA of this directory, with its key (needed to issue). */
  public CertificateAuthority ca() throws IOException {
    X509Certificate cert = readCa();
    PrivateKey key;
    try {
      key = Pem.readPrivateKey(caKey());
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(caKey().toString(), null,
          "the CA key is needed to issue certificates; run joinflow cert create-ca first or point --certs-dir at the CA's directory");
    }
    String cluster = clusterOf(cert);
    return new CertificateAuthority(cluster, key, cert);
  }

  /** The CA certificate of this directory ({@code ca.crt}); the key is not needed. */
  public X509Certificate readCaCertificate() throws IOException {
    return readCa();
  }

  /** The CA of this directory when it holds the CA key too; empty when it holds only {@code ca.crt}. */
  public java.util.Optional<CertificateAuthority> caWithKey() throws IOException {
    return Files.exists(caKey()) ? java.util.Optional.of(ca()) : java.util.Optional.empty();
  }

  /** The {@link CertificateAuthority#publicKeyHash} of this directory's CA certificate. */
  public String caHash() throws IOException {
    return CertificateAuthority.publicKeyHash(readCa());
  }

  private X509Certificate readCa() throws IOException {
    try {
      return Pem.readCertificate(caCertificate());
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(caCertificate().toString(), null,
          "no CA certificate here; run joinflow cert create-ca --certs-dir " + dir);
    }
  }

  /** Issues and writes a certificate for {@code who}; refuses to overwrite an existing one. */
  public PeerIdentity issue(Role role, long nodeId, List<String> hosts) throws IOException {
    CertificateAuthority ca = ca();
    PeerIdentity who = new PeerIdentity(ca.cluster(), role, nodeId);
    Path cert = certificate(role, nodeId);
    if (Files.exists(cert)) {
      throw new FileAlreadyExistsException(cert.toString(), null, "a certificate for " + who + " exists already");
    }
    CertificateAuthority.Issued issued = ca.issue(who, hosts, CERT_VALIDITY);
    write(privateKey(role, nodeId), Pem.privateKey(issued.key()));
    write(cert, Pem.certificate(issued.certificate()));
    return who;
  }

  /** The TLS identity of a certificate holder, for its servers and clients. */
  public TlsIdentity identity(Role role, long nodeId) throws IOException {
    X509Certificate ca = readCa();
    Path certFile = certificate(role, nodeId);
    X509Certificate cert;
    PrivateKey key;
    try {
      cert = Pem.readCertificate(certFile);
      key = Pem.readPrivateKey(privateKey(role, nodeId));
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(e.getFile(), null, "no " + base(role, nodeId) + " certificate in " + dir
          + "; issue it with joinflow cert " + (role == Role.NODE ? "create-node --node-id " + nodeId
              : "create-client --role " + role.label()));
    }
    PeerIdentity self = PeerIdentity.of(cert);
    if (self.role() != role || self.nodeId() != nodeId) {
      throw new IOException(certFile + " names " + self + ", not the expected " + role.label()
          + (role == Role.NODE ? " " + nodeId : ""));
    }
    return new TlsIdentity(self, key, cert, ca);
  }

  /** The cluster name a CA certificate was created for. */
  static String clusterOf(X509Certificate ca) {
    String dn = ca.getSubjectX500Principal().getName();
    int at = dn.indexOf("CN=joinflow CA ");
    if (at < 0) {
      throw new IllegalArgumentException("not a joinflow CA certificate: " + dn);
    }
    String rest = dn.substring(at + "CN=joinflow CA ".length());
    int comma = rest.indexOf(',');
    return comma < 0 ? rest : rest.substring(0, comma);
  }

  static void write(Path file, String content) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    Files.writeString(file, content, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
  }
}
