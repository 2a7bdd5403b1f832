package io.joinflow.metrics;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per gRPC method of a server: calls started, calls handled by status code, and how long they
 * took, as the grpc-ecosystem Prometheus interceptors name them (with joinflow's prefix):
 * <ul>
 *   <li>{@code joinflow_grpc_server_started_total{grpc_service, grpc_method}}
 *   <li>{@code joinflow_grpc_server_handled_total{grpc_service, grpc_method, grpc_code}}
 *   <li>{@code joinflow_grpc_server_handling_seconds{grpc_service, grpc_method}} (histogram)
 * </ul>
 * Labels are bounded by the services a server registers and gRPC's 17 codes. A call the client
 * cancels counts as {@code CANCELLED}.
 */
public final class GrpcServerMetrics implements ServerInterceptor {
  private final MeterRegistry registry;

  public GrpcServerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                     ServerCallHandler<Q, A> next) {
    MethodDescriptor<Q, A> method = call.getMethodDescriptor();
    String service = method.getServiceName() == null ? "" : method.getServiceName();
    String name = method.getBareMethodName() == null ? "" : method.getBareMethodName();
    Counter.builder("joinflow_grpc_server_started").description("gRPC calls this server started")
        .tag("grpc_service", service).tag("grpc_method", name).register(registry).increment();
    long started = System.nanoTime();
    AtomicBoolean done = new AtomicBoolean();
    ServerCall<Q, A> measured = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (done.compareAndSet(false, true)) {
          record(service, name, status.getCode(), started);
        }
        super.close(status, trailers);
      }
    };
    ServerCall.Listener<Q> listener = next.startCall(measured, headers);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        if (done.compareAndSet(false, true)) {
          record(service, name, Status.Code.CANCELLED, started);
        }
        super.onCancel();
      }
    };
  }

  private void record(String service, String method, Status.Code code, long startedNanos) {
    Counter.builder("joinflow_grpc_server_handled").description("gRPC calls this server completed, by status code")
        .tag("grpc_service", service).tag("grpc_method", method).tag("grpc_code", code.name())
        .register(registry).increment();
    Timer.builder("joinflow_grpc_server_handling").description("How long this server took to answer a gRPC call")
        .tag("grpc_service", service).tag("grpc_method", method)
        .register(registry).record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
  }
}
