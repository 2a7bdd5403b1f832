package io.joinflow.proto;

/** A {@code host:port} address, validated when parsed. */
public record HostPort(String host, int port) {
  /** The longest DNS name (RFC 1035). */
  public static final int MAX_HOST_LENGTH = 253;

  /**
   * Letters, digits and the punctuation of DNS names and IP literals (IPv6 with a zone). Control
   * characters never pass, so an address is safe to put into logs, summaries and the Web UI.
   */
  private static boolean hostChar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '.' || c == '-' || c == '_' || c == ':' || c == '%';
  }

  /** {@code text} with control characters shown as escapes, for error messages. */
  private static String printable(String text) {
    StringBuilder b = new StringBuilder();
    text.codePoints().limit(300).forEach(c -> {
      if (Character.isISOControl(c)) {
        b.append(String.format("\\u%04x", c));
      } else {
        b.appendCodePoint(c);
      }
    });
    return b.toString();
  }

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
      throw new IllegalArgumentException("'" + printable(text) + "' is not host:port");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException("'" + printable(text) + "': write IPv6 hosts in brackets, as [::1]:7100");
    }
    if (host.isEmpty() || host.length() > MAX_HOST_LENGTH || !host.chars().allMatch(HostPort::hostChar)) {
      throw new IllegalArgumentException("'" + printable(text) + "' has an empty or malformed host"
          + " (a DNS name or IP address of at most " + MAX_HOST_LENGTH + " characters)");
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + printable(text) + "' has a non-numeric port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("'" + printable(text) + "' has port " + port + "; use 1-65535");
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
