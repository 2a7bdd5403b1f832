package io.joinflow.security;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * One holder's TLS material (its key, its certificate, the cluster CA) and the contexts built from
 * it: a gRPC server that requires a client certificate from this cluster, a gRPC client that
 * presents this certificate, and key and trust managers for transports that take those (Ratis).
 */
public record TlsIdentity(PeerIdentity self, PrivateKey key, X509Certificate certificate, X509Certificate ca) {

  /** A gRPC (grpc-netty-shaded) server context: mutual TLS, any role of this cluster. */
  public SslContext serverContext() {
    try {
      return GrpcSslContexts.configure(SslContextBuilder.forServer(key, certificate))
          .trustManager(trustManager(EnumSet.allOf(Role.class)))
          .clientAuth(ClientAuth.REQUIRE)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the TLS server context for " + self + ": " + e.getMessage(), e);
    }
  }

  /**
   * A gRPC server context like {@link #serverContext} that also accepts callers without a client
   * certificate (their calls are left to {@link Authorization}, which lets them reach only the
   * methods meant for them) and sends the CA certificate after its own, so that a caller that
   * pins the CA by its key's hash ({@link CaPin}) finds it in the chain.
   */
  public SslContext serverContextClientCertificateOptional() {
    try {
      return GrpcSslContexts.configure(SslContextBuilder.forServer(key, certificate, ca))
          .trustManager(trustManager(EnumSet.allOf(Role.class)))
          .clientAuth(ClientAuth.OPTIONAL)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the TLS server context for " + self + ": " + e.getMessage(), e);
    }
  }

  /** A gRPC (grpc-netty-shaded) client context: presents this certificate, trusts the cluster CA. */
  public SslContext clientContext() {
    // Built once per identity: every channel of it shares the context, and with it its TLS
    // session cache, so a new channel to a peer seen before resumes a session instead of a full
    // handshake. Weak keys: an identity no longer used takes its context with it.
    return CLIENT_CONTEXTS.computeIfAbsent(this, TlsIdentity::buildClientContext);
  }

  private static final Map<TlsIdentity, SslContext> CLIENT_CONTEXTS = Collections.synchronizedMap(new WeakHashMap<>());

  private SslContext buildClientContext() {
    try {
      return GrpcSslContexts.forClient().keyManager(key, certificate).trustManager(ca).build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the TLS client context for " + self + ": " + e.getMessage(), e);
    }
  }

  /** A key manager presenting this certificate. */
  public KeyManager keyManager() {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] none = new char[0];
      ks.setKeyEntry("self", key, none, new X509Certificate[] {certificate});
      KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      f.init(ks, none);
      return f.getKeyManagers()[0];
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build a key manager for " + self + ": " + e.getMessage(), e);
    }
  }

  /**
   * A trust manager that accepts only certificates signed by the cluster CA whose joinflow
   * identity names this cluster and one of {@code roles}, in both directions.
   */
  public X509TrustManager trustManager(Set<Role> roles) {
    X509TrustManager pkix = caTrust();
    Set<Role> allowed = Set.copyOf(roles);
    String cluster = self.cluster();
    return new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkClientTrusted(chain, authType);
        check(chain);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
        check(chain);
      }

      private void check(X509Certificate[] chain) throws CertificateException {
        PeerIdentity peer;
        try {
          peer = PeerIdentity.of(chain[0]);
        } catch (IllegalArgumentException e) {
          throw new CertificateException(e.getMessage(), e);
        }
        if (!peer.cluster().equals(cluster)) {
          throw new CertificateException(peer + " belongs to another cluster than " + cluster);
        }
        if (!allowed.contains(peer.role())) {
          throw new CertificateException(peer + " may not connect here: only " + allowed + " may");
        }
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
      }
    };
  }

  private X509TrustManager caTrust() {
    try {
      return trustAnchoredAt(ca);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot trust the cluster CA: " + e.getMessage(), e);
    }
  }

  /** The platform's PKIX trust manager with {@code ca} as its only anchor. */
  static X509TrustManager trustAnchoredAt(X509Certificate ca) throws GeneralSecurityException, java.io.IOException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("ca", ca);
    TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    f.init(ks);
    return (X509TrustManager) Arrays.stream(f.getTrustManagers()).filter(t -> t instanceof X509TrustManager)
        .findFirst().orElseThrow();
  }

  /** A trust manager for the cluster CA and {@code roles}, as an array for APIs that take one. */
  public TrustManager[] trustManagers(Set<Role> roles) {
    return new TrustManager[] {trustManager(roles)};
  }
}
