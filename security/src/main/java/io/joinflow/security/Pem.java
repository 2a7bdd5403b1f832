package io.joinflow.security;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM files: certificates and PKCS#8 private keys, the formats openssl, Netty and gRPC read. */
final class Pem {
  private Pem() {
  }

  static String certificate(X509Certificate cert) {
    return write(cert);
  }

  static String privateKey(PrivateKey key) {
    try {
      return write(new JcaPKCS8Generator(key, null));
    } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
      throw new IllegalStateException("cannot encode private key: " + e.getMessage(), e);
    }
  }

  private static String write(Object o) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  static X509Certificate readCertificate(Path file) throws IOException {
    return certificateOf(read(file), file.toString());
  }

  /** Parses a PEM certificate received as text; {@code what} names it in errors. */
  static X509Certificate parseCertificate(String pem, String what) throws IOException {
    try (PEMParser p = new PEMParser(new java.io.StringReader(pem))) {
      return certificateOf(p.readObject(), what);
    }
  }

  private static X509Certificate certificateOf(Object o, String file) throws IOException {
    if (!(o instanceof X509CertificateHolder holder)) {
      throw new IOException(file + " holds no PEM certificate");
    }
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (CertificateException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  static PrivateKey readPrivateKey(Path file) throws IOException {
    Object o = read(file);
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    if (o instanceof PrivateKeyInfo info) {
      return converter.getPrivateKey(info);
    }
    if (o instanceof PEMKeyPair pair) {
      return converter.getKeyPair(pair).getPrivate();
    }
    throw new IOException(file + " holds no unencrypted PEM private key");
  }

  private static Object read(Path file) throws IOException {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      if (o == null) {
        throw new IOException(file + " is empty");
      }
      return o;
    }
  }
}
