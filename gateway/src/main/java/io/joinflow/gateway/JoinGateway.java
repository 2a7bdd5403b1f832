package io.joinflow.gateway;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.joinflow.proto.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** The gateway's gRPC server: JoinService plus health and reflection. */
public final class JoinGateway implements AutoCloseable {
  private final Server server;
  private final ExecutorService executor;
  private final HealthStatusManager health = new HealthStatusManager();
  private final JoinServiceImpl service;

  private JoinGateway(HostPort listen, JoinServiceImpl service) throws IOException {
    this.service = service;
    // Join calls block until their workflow finishes: bound how many wait at once.
    this.executor = Executors.newFixedThreadPool(64, r -> {
      Thread t = new Thread(r, "join-gateway");
      t.setDaemon(true);
      return t;
    });
    this.server = NettyServerBuilder.forAddress(new InetSocketAddress(listen.host(), listen.port()))
        .executor(executor)
        .addService(service)
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build();
    try {
      server.start();
    } catch (IOException e) {
      executor.shutdownNow();
      throw new IOException("cannot listen on " + listen + ": " + e.getMessage(), e);
    }
  }

  public static JoinGateway start(HostPort listen, JoinServiceImpl service) throws IOException {
    return new JoinGateway(listen, service);
  }

  public int port() {
    return server.getPort();
  }

  /**
   * Stops serving. Join calls still waiting for their workflow are answered UNAVAILABLE ("call
   * Join again to attach to it"); the workflows go on.
   */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    service.stopWaiting();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    executor.shutdownNow();
  }
}
