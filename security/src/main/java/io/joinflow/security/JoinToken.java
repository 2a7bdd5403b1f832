package io.joinflow.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.regex.Pattern;

/**
 * A single-use join token, {@code <id>.<secret>} as kubeadm's bootstrap tokens: the id
 * ({@code [a-z0-9]{6}}) names the token in group 0, lists and logs; the secret
 * ({@code [a-z0-9]{16}}, from {@link SecureRandom}) is shown once, when the token is created, and
 * is stored only as its SHA-256. {@link #toString} never shows the secret.
 */
public final class JoinToken {
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final Pattern ID = Pattern.compile("[a-z0-9]{6}");
  private static final Pattern TOKEN = Pattern.compile("([a-z0-9]{6})\\.([a-z0-9]{16})");
  /** What a malformed token is told, without repeating it. */
  public static final String FORMAT = "a join token is <6 lower-case letters or digits>.<16 lower-case letters or digits>,"
      + " as joinflow token create prints it";

  private final String id;
  private final String secret;

  private JoinToken(String id, String secret) {
    this.id = id;
    this.secret = secret;
  }

  /** A new token with a random id and secret. */
  public static JoinToken generate(SecureRandom random) {
    return new JoinToken(random(random, 6), random(random, 16));
  }

  /**
   * Parses {@code <id>.<secret>}.
   *
   * @throws IllegalArgumentException saying what a token looks like (never quoting the text)
   */
  public static JoinToken parse(String text) {
    var m = TOKEN.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(FORMAT);
    }
    return new JoinToken(m.group(1), m.group(2));
  }

  /** True when {@code id} has the form of a token id. */
  public static boolean isId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  public String id() {
    return id;
  }

  /** The whole token, secret included: for the one answer that shows it, and for the joining node. */
  public String reveal() {
    return id + "." + secret;
  }

  /** SHA-256 of the secret: what group 0 stores. */
  public byte[] secretHash() {
    return sha256(secret.getBytes(StandardCharsets.US_ASCII));
  }

  /** Whether this token's secret hashes to {@code storedHash}, compared in constant time. */
  public boolean matches(byte[] storedHash) {
    return MessageDigest.isEqual(secretHash(), storedHash);
  }

  @Override
  public String toString() {
    return id + ".<secret>";
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  private static String random(SecureRandom random, int length) {
    StringBuilder b = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return b.toString();
  }
}
