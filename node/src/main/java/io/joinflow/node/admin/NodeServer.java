package io.joinflow.node.admin;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A node's gRPC server: its services plus health (and reflection, on development clusters), on a
 * {@link ServerBuilder} the caller configured (address, executor, TLS and limits), as
 * grpc-java's examples take it.
 */
public final class NodeServer implements AutoCloseable {
  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();

  public NodeServer(ServerBuilder<?> builder, List<BindableService> services, boolean reflection) {
    services.forEach(builder::addService);
    builder.addService(health.getHealthService());
    if (reflection) {
      builder.addService(ProtoReflectionServiceV1.newInstance());
    }
    this.server = builder.build();
  }

  public NodeServer start() throws IOException {
    server.start();
    return this;
  }

  public int port() {
    return server.getPort();
  }

  /** Stops at once: calls in flight are cancelled (callers retry against another node). */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
