package io.joinflow.gateway;

import io.joinflow.security.CertificateAuthority;

/**
 * How a gateway treats join tokens: whether a Join needs one (a secure gateway requires one by
 * default; an insecure one checks a token only when the request carries it), and the CA that
 * signs the certificates of nodes that bootstrap with a token (null: this gateway holds no CA
 * key and refuses Bootstrap).
 */
public record JoinTokenPolicy(boolean required, CertificateAuthority ca) {

  /** Tokens checked when given, not required; no Bootstrap. */
  public static JoinTokenPolicy optional() {
    return new JoinTokenPolicy(false, null);
  }
}
