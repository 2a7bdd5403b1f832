package io.joinflow.proto;

/** A {@code host:port} address, validated when parsed. */
public record HostPort(String host, int port) {

  /**
   * Parses {@code host:port} (IPv6 hosts in brackets).
   *
   * @throws IllegalArgumentException with a sentence saying what is wrong
   */
  public static HostPort parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("address is empty; expected host:port");
    }
    String s = text.trim();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("'" + text + "' is not host:port");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException("'" + text + "': write IPv6 hosts in brackets, as [::1]:7100");
    }
    if (host.isEmpty() || host.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("'" + text + "' has an empty or malformed host");
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has a non-numeric port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("'" + text + "' has port " + port + "; use 1-65535");
    }
    return new HostPort(host, port);
  }

  /** The same host with another port. */
  public HostPort withPort(int newPort) {
    return new HostPort(host, newPort);
  }

  @Override
  public String toString() {
    return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
  }
}
