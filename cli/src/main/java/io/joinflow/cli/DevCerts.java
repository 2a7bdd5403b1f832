package io.joinflow.cli;

import io.joinflow.security.CertificateAuthority;
import io.joinflow.security.CertsDir;
import io.joinflow.security.Channels;
import io.joinflow.security.Role;
import io.joinflow.security.TlsIdentity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The throwaway CA of a local cluster ({@code dev}, {@code demo}, {@code bench}) and the
 * certificates it issued, in the cluster's data dir: made on the first start, reused on every
 * start after (a node keeps its certificate; only missing ones are issued). The worker, gateway,
 * operator and client certificates are issued up front, so the operator commands can use the
 * directory at once; a node's when it first starts.
 */
final class DevCerts {
  /** The cluster name in every dev certificate. */
  static final String CLUSTER = "dev";
  /** Every dev process listens on loopback, and is dialled there. */
  static final List<String> HOSTS = List.of("127.0.0.1", "localhost");
  private static final List<Role> CLIENT_ROLES = List.of(Role.WORKER, Role.GATEWAY, Role.OPERATOR, Role.CLIENT);

  private final CertsDir dir;

  private DevCerts(CertsDir dir) {
    this.dir = dir;
  }

  /** The certificates in {@code path}, made there first if it holds no CA yet. */
  static DevCerts open(Path path) throws IOException {
    CertsDir dir = new CertsDir(path);
    if (!Files.exists(dir.caCertificate())) {
      dir.createCa(CLUSTER);
    }
    DevCerts certs = new DevCerts(dir);
    for (Role role : CLIENT_ROLES) {
      certs.ensure(role, 0);
    }
    return certs;
  }

  Path path() {
    return dir.path();
  }

  /** {@code sha256:<hex>} of the CA's public key, what a joiner pins the cluster by. */
  String caHash() {
    try {
      return dir.caHash();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The dev CA with its key: the gateway signs the certificates of nodes that bootstrap with it. */
  CertificateAuthority ca() throws IOException {
    return dir.ca();
  }

  /** The TLS identity of node {@code id}, issued now if it has none yet. */
  TlsIdentity node(long id) throws IOException {
    ensure(Role.NODE, id);
    return dir.identity(Role.NODE, id);
  }

  /** How a process of {@code role} (not a node) talks: mutual TLS with its certificate. */
  Channels channels(Role role) {
    try {
      return Channels.tls(dir.identity(role, 0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // Nodes start from several threads at once (bench, crash tests): one issues at a time.
  private synchronized void ensure(Role role, long id) throws IOException {
    if (!Files.exists(dir.certificate(role, id))) {
      dir.issue(role, id, HOSTS);
    }
  }
}
