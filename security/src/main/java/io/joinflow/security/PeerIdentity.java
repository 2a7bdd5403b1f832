package io.joinflow.security;

import java.net.URI;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Who a certificate says its holder is, read from its URI SAN
 * {@code joinflow://<cluster>/<role>} or, for nodes, {@code joinflow://<cluster>/node/<id>}.
 *
 * @param cluster the cluster name the CA was created for
 * @param role the holder's role
 * @param nodeId the node id for {@link Role#NODE}, else 0
 */
public record PeerIdentity(String cluster, Role role, long nodeId) {
  public static final String SCHEME = "joinflow";

  public PeerIdentity {
    if (role == Role.NODE && nodeId == 0) {
      throw new IllegalArgumentException("a node identity needs a non-zero node id");
    }
    if (role != Role.NODE && nodeId != 0) {
      throw new IllegalArgumentException("only a node identity carries a node id");
    }
  }

  /** The URI SAN that names this identity. */
  public URI uri() {
    return URI.create(SCHEME + "://" + cluster + "/" + role.label() + (role == Role.NODE ? "/" + Long.toUnsignedString(nodeId) : ""));
  }

  @Override
  public String toString() {
    return role == Role.NODE ? "node " + Long.toUnsignedString(nodeId) + " of " + cluster : role.label() + " of " + cluster;
  }

  /** Parses one URI SAN; throws when it is not a joinflow identity. */
  public static PeerIdentity parse(URI uri) {
    if (!SCHEME.equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("not a joinflow identity: " + uri);
    }
    String[] path = uri.getPath().replaceFirst("^/", "").split("/");
    Role role = Role.parse(path[0]);
    if (role == Role.NODE) {
      if (path.length != 2) {
        throw new IllegalArgumentException("a node identity is joinflow://<cluster>/node/<id>, not " + uri);
      }
      return new PeerIdentity(uri.getHost(), role, Long.parseUnsignedLong(path[1]));
    }
    if (path.length != 1) {
      throw new IllegalArgumentException("a " + role.label() + " identity is joinflow://<cluster>/" + role.label()
          + ", not " + uri);
    }
    return new PeerIdentity(uri.getHost(), role, 0);
  }

  /** The one joinflow identity a certificate names; throws when it names none or several. */
  public static PeerIdentity of(X509Certificate cert) {
    List<PeerIdentity> found = new ArrayList<>();
    Collection<List<?>> sans;
    try {
      sans = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new IllegalArgumentException("unreadable subject alternative names: " + e.getMessage(), e);
    }
    if (sans != null) {
      for (List<?> san : sans) {
        // type 6 = uniformResourceIdentifier (RFC 5280)
        if (((Integer) san.get(0)) == 6 && san.get(1).toString().startsWith(SCHEME + "://")) {
          found.add(parse(URI.create(san.get(1).toString())));
        }
      }
    }
    if (found.size() != 1) {
      throw new IllegalArgumentException("certificate " + cert.getSubjectX500Principal().getName()
          + " names " + found.size() + " joinflow identities; it needs exactly one (issue it with joinflow cert)");
    }
    return found.get(0);
  }
}
