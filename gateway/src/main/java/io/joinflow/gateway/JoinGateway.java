package io.joinflow.gateway;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.StatusException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.CallLimit;
import io.joinflow.security.Channels;
import io.joinflow.security.RateLimit;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's gRPC server: JoinService plus health (and reflection, on development clusters).
 * Before it listens it starts again the joins whose workflow was lost ({@link JoinRecovery});
 * when the cluster or Temporal cannot be asked yet, it keeps trying in the background until one
 * scan succeeds.
 */
public final class JoinGateway implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JoinGateway.class);
  private static final long FIRST_RETRY_MILLIS = 2_000;
  private static final long MAX_RETRY_MILLIS = 60_000;

  /** Threads that answer calls; a call beyond them is refused, not queued. */
  static final int THREADS = 64;
  /** Joins waiting for their workflows at once; the other calls keep the remaining threads. */
  static final int MAX_JOINS_IN_FLIGHT = 48;
  static final int MAX_CALLS_PER_CONNECTION = 32;
  static final int MAX_MESSAGE_BYTES = 1 << 20;
  /** Bootstrap is open to callers without a certificate and reads group 0's tokens. */
  static final int BOOTSTRAPS_PER_SECOND = 10;
  static final int BOOTSTRAP_BURST = 20;

  private final Server server;
  private final ExecutorService executor;
  private final ScheduledExecutorService recovery;
  private final HealthStatusManager health = new HealthStatusManager();
  private final JoinServiceImpl service;

  private JoinGateway(HostPort listen, JoinServiceImpl service, List<ServerInterceptor> interceptors,
                      Channels transport, boolean reflection) throws IOException {
    this.service = service;
    // Join calls block until their workflow finishes: bound how many wait at once.
    this.executor = Executors.newFixedThreadPool(THREADS, r -> {
      Thread t = new Thread(r, "join-gateway");
      t.setDaemon(true);
      return t;
    });
    this.recovery = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "join-recovery");
      t.setDaemon(true);
      return t;
    });
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(listen.host(), listen.port()))
        .executor(executor)
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
        .addService(service)
        .addService(health.getHealthService());
    if (reflection) {
      // Development clusters only: in production it maps the API for anyone with a certificate.
      builder.addService(ProtoReflectionServiceV1.newInstance());
    }
    interceptors.forEach(builder::intercept);
    if (transport.secure()) {
      // Client certificates are optional at the handshake only so that an empty node can Bootstrap;
      // JoinAccess refuses every other method to a caller without one.
      transport.serveClientCertificateOptional(builder);
      JoinAccess.interceptors(transport.identity().self().cluster()).forEach(builder::intercept);
    }
    // Added last, so they run first: a flood is turned away before any other work (H9). No
    // call waits for a thread: every thread may hold a call, and Joins, which hold theirs for
    // as long as their workflow runs, leave some to the other calls.
    builder.intercept(new RateLimit(JoinServiceGrpc.getBootstrapMethod(), "gateway", BOOTSTRAPS_PER_SECOND,
        BOOTSTRAP_BURST));
    builder.intercept(CallLimit.forMethods(MAX_JOINS_IN_FLIGHT, "gateway", JoinServiceGrpc.getJoinMethod()));
    builder.intercept(new CallLimit(THREADS, "gateway"));
    this.server = builder.build();
    // Before listening, so a lost join is running again before its node's next Join arrives.
    recover(FIRST_RETRY_MILLIS);
    try {
      server.start();
    } catch (IOException e) {
      recovery.shutdownNow();
      executor.shutdownNow();
      throw new IOException("cannot listen on " + listen + ": " + e.getMessage(), e);
    }
  }

  public static JoinGateway start(HostPort listen, JoinServiceImpl service) throws IOException {
    return new JoinGateway(listen, service, List.of(), Channels.plaintext(), false);
  }

  /** {@link #start(HostPort, JoinServiceImpl)} with these interceptors on every call (e.g. metrics). */
  public static JoinGateway start(HostPort listen, JoinServiceImpl service, List<ServerInterceptor> interceptors)
      throws IOException {
    return new JoinGateway(listen, service, interceptors, Channels.plaintext(), false);
  }

  /**
   * A gateway that requires mutual TLS ({@link JoinAccess}: nodes join as themselves, operators
   * operate) when {@code transport} is secure.
   */
  public static JoinGateway start(HostPort listen, JoinServiceImpl service, List<ServerInterceptor> interceptors,
                                  Channels transport) throws IOException {
    return new JoinGateway(listen, service, interceptors, transport, false);
  }

  /** A development cluster's gateway: as above, and serving gRPC reflection. */
  public static JoinGateway startForDevelopment(HostPort listen, JoinServiceImpl service,
                                                List<ServerInterceptor> interceptors, Channels transport)
      throws IOException {
    return new JoinGateway(listen, service, interceptors, transport, true);
  }

  private void recover(long nextDelayMillis) {
    try {
      int n = service.recoverLostJoins().size();
      if (n > 0) {
        LOG.info("join recovery: {} lost join(s) started again", n);
      } else {
        LOG.debug("join recovery: no lost join");
      }
    } catch (StatusException e) {
      if (TemporalFailures.isRefusal(e)) {
        // Retrying cannot help until an operator fixes Temporal's setup; the next start scans again.
        LOG.error("join recovery stopped: {}. Lost joins stay pending until the gateway starts again.",
            e.getStatus().getDescription());
        return;
      }
      LOG.warn("join recovery: cannot scan the join records yet ({}); trying again in {} ms",
          e.getStatus().getDescription(), nextDelayMillis);
      recovery.schedule(() -> recover(Math.min(nextDelayMillis * 2, MAX_RETRY_MILLIS)), nextDelayMillis,
          TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      // A bug must not stop the gateway from serving; the next start scans again.
      LOG.error("join recovery failed; lost joins stay pending until the next gateway start", e);
    }
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
    recovery.shutdownNow();
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
