package io.joinflow.proto;

/**
 * The one canonical form of a joining node's listen address, shared by the gateway (which
 * refuses a bad address before it starts a join) and the join's activities (which refuse it
 * again for callers that bypass the gateway). Pure: it resolves no name; whether the host
 * resolves is the validate step's question.
 */
public final class JoinAddress {

  private JoinAddress() {}

  /**
   * The canonical {@code host:port} of {@code listenAddr}: what group 0 stores, what
   * collisions are compared on, what summaries and logs show.
   *
   * @throws IllegalArgumentException with NodeDB's sentence, {@code invalid listen_addr '...': ...},
   *     when the text is not host:port or names the wildcard address, which other nodes cannot dial
   */
  public static String canonical(String listenAddr) {
    return parse(listenAddr).toString();
  }

  /**
   * {@code listenAddr} parsed and checked as {@link #canonical} does it; its {@code toString()}
   * is the canonical form.
   *
   * @throws IllegalArgumentException as {@link #canonical}
   */
  public static HostPort parse(String listenAddr) {
    HostPort hp;
    try {
      hp = HostPort.parse(listenAddr);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid listen_addr '" + listenAddr + "': " + e.getMessage(), e);
    }
    if (isWildcard(hp.host())) {
      throw new IllegalArgumentException("invalid listen_addr '" + listenAddr + "': " + hp.host()
          + " means every interface, which other nodes cannot dial; give an address they can reach");
    }
    return hp;
  }

  /** 0.0.0.0 and the IPv6 unspecified address in any of its spellings (::, 0:0:0:0:0:0:0:0). */
  public static boolean isWildcard(String host) {
    if (host.equals("0.0.0.0")) {
      return true;
    }
    return host.contains(":") && host.chars().allMatch(c -> c == '0' || c == ':');
  }
}
