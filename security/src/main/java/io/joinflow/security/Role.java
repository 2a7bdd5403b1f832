package io.joinflow.security;

import java.util.Locale;

/**
 * What a certificate allows its holder to be. Every certificate the cluster CA issues names
 * exactly one role in its URI SAN ({@code joinflow://<cluster>/<role>[/<node id>]}).
 */
public enum Role {
  /** A cluster node: Ratis peer, NodeAdmin server. */
  NODE,
  /** A Temporal worker: the only caller of NodeAdmin mutations. */
  WORKER,
  /** A join gateway: reads cluster views, serves JoinService. */
  GATEWAY,
  /** A human or script operating the cluster: status, joins, leave, tokens. */
  OPERATOR,
  /** An application reading and writing data. */
  CLIENT;

  /** The role's name as certificates and flags spell it. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The role named {@code label}; the message lists the valid names. */
  public static Role parse(String label) {
    for (Role r : values()) {
      if (r.label().equals(label)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown role '" + label + "': use node, worker, gateway, operator or client");
  }
}
