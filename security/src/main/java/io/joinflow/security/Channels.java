package io.joinflow.security;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

/**
 * How one process talks gRPC: plaintext, or mutual TLS with its own certificate. Every client
 * channel and server of a process comes from here, so a process is secure everywhere or,
 * explicitly, nowhere.
 */
public final class Channels {
  private static final Channels PLAINTEXT = new Channels(null);

  private final TlsIdentity tls;

  private Channels(TlsIdentity tls) {
    this.tls = tls;
  }

  public static Channels plaintext() {
    return PLAINTEXT;
  }

  public static Channels tls(TlsIdentity identity) {
    return new Channels(identity);
  }

  public boolean secure() {
    return tls != null;
  }

  /** The process's identity, or null when it runs plaintext. */
  public TlsIdentity identity() {
    return tls;
  }

  /** A channel builder to {@code target} ({@code host:port}), with this process's transport. */
  public NettyChannelBuilder builder(String target) {
    NettyChannelBuilder b = NettyChannelBuilder.forTarget(target);
    return tls == null ? b.usePlaintext() : b.sslContext(tls.clientContext());
  }

  public NettyChannelBuilder builder(String host, int port) {
    NettyChannelBuilder b = NettyChannelBuilder.forAddress(host, port);
    return tls == null ? b.usePlaintext() : b.sslContext(tls.clientContext());
  }

  public ManagedChannel channel(String target) {
    return builder(target).build();
  }

  public ManagedChannel channel(String host, int port) {
    return builder(host, port).build();
  }

  /** Makes a server require client certificates from the cluster CA (no-op when plaintext). */
  public NettyServerBuilder serve(NettyServerBuilder builder) {
    return tls == null ? builder : builder.sslContext(tls.serverContext());
  }

  /**
   * Like {@link #serve}, but callers without a client certificate may connect too (the server's
   * {@link Authorization} must then let them reach only the methods meant for them, see
   * {@link Authorization.Builder#allowWithoutCertificate}).
   */
  public NettyServerBuilder serveClientCertificateOptional(NettyServerBuilder builder) {
    return tls == null ? builder : builder.sslContext(tls.serverContextClientCertificateOptional());
  }

  @Override
  public String toString() {
    return tls == null ? "plaintext" : "mutual TLS as " + tls.self();
  }
}
