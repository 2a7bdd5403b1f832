package io.joinflow.cli;

import com.uber.m3.tally.NoopScope;
import com.uber.m3.tally.Scope;
import io.grpc.ServerInterceptor;
import io.joinflow.metrics.GrpcServerMetrics;
import io.joinflow.metrics.JoinflowRegistry;
import io.joinflow.metrics.MetricsServer;
import io.joinflow.proto.HostPort;
import io.joinflow.worker.TemporalMetrics;
import io.joinflow.worker.WorkerMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.temporal.common.interceptors.WorkerInterceptor;
import java.io.IOException;
import java.util.List;

/**
 * One process's (or, in {@code dev}, one node's) metrics: its registry, served at
 * {@code /metrics}, and the pieces its parts plug in: the gRPC server interceptor, the
 * Temporal SDK's metrics scope and the worker interceptor. {@link #off()} is the same surface
 * with nothing behind it, for a process started without {@code --metrics-listen}.
 */
final class MetricsEndpoint implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private final MetricsServer server;
  private Scope temporalScope;

  private MetricsEndpoint(PrometheusMeterRegistry registry, MetricsServer server) {
    this.registry = registry;
    this.server = server;
  }

  /**
   * Serves a new registry on {@code listen}.
   *
   * @throws IOException with a sentence naming the address when it cannot be bound
   */
  static MetricsEndpoint start(HostPort listen) throws IOException {
    PrometheusMeterRegistry registry = JoinflowRegistry.create();
    return new MetricsEndpoint(registry, MetricsServer.start(listen.host(), listen.port(), registry));
  }

  /** No metrics: nothing is served and nothing records. */
  static MetricsEndpoint off() {
    return new MetricsEndpoint(null, null);
  }

  boolean enabled() {
    return registry != null;
  }

  /** The registry; only when {@link #enabled()}. */
  PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Where Prometheus scrapes it, e.g. {@code http://127.0.0.1:7105/metrics}; empty when off. */
  String url() {
    return server == null ? "" : server.url();
  }

  /** Per-method metrics of a gRPC server of this process. */
  List<ServerInterceptor> grpcInterceptors() {
    return enabled() ? List.of(new GrpcServerMetrics(registry)) : List.of();
  }

  /** Join, promotion, leave and step metrics of a worker of this process. */
  List<WorkerInterceptor> workerInterceptors() {
    return enabled() ? List.of(new WorkerMetrics(registry)) : List.of();
  }

  /** The scope the Temporal SDK reports its client and worker metrics to (one per process). */
  synchronized Scope temporalScope() {
    if (!enabled()) {
      return new NoopScope();
    }
    if (temporalScope == null) {
      temporalScope = TemporalMetrics.scope(registry);
    }
    return temporalScope;
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.close();
    }
    if (temporalScope != null) {
      TemporalMetrics.close(temporalScope);
      temporalScope = null;
    }
  }
}
