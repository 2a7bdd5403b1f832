package io.joinflow.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Real gRPC on loopback: open health watches hold calls in flight. */
class CallLimitTest {
  @Test
  void answersResourceExhaustedBeyondTheBoundAndRecoversWhenCallsEnd() throws Exception {
    CallLimit limit = new CallLimit(2, "node 7");
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new HealthStatusManager().getHealthService()).intercept(limit).build().start();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try {
      Context.CancellableContext first = Context.current().withCancellation();
      Context.CancellableContext second = Context.current().withCancellation();
      for (Context.CancellableContext c : java.util.List.of(first, second)) {
        c.run(() -> HealthGrpc.newStub(ch).watch(HealthCheckRequest.getDefaultInstance(), ignore()));
      }
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> limit.inFlight() == 2);
      HealthGrpc.HealthBlockingStub check = HealthGrpc.newBlockingStub(ch);
      assertThatThrownBy(() -> check.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).isEqualTo("node 7 is answering 2 calls already; retry with backoff");
          });
      first.cancel(null);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> limit.inFlight() == 1);
      assertThat(check.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
          .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      // The answer can reach the client before the server counts its call as ended.
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> limit.inFlight() == 1);
      second.cancel(null);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> limit.inFlight() == 0);
    } finally {
      ch.shutdownNow();
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void boundsTheNamedMethodsOnlyAndLeavesTheRestToTheOthers() throws Exception {
    CallLimit limit = CallLimit.forMethods(1, "gateway", HealthGrpc.getWatchMethod());
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new HealthStatusManager().getHealthService()).intercept(limit).build().start();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try {
      Context.CancellableContext watching = Context.current().withCancellation();
      watching.run(() -> HealthGrpc.newStub(ch).watch(HealthCheckRequest.getDefaultInstance(), ignore()));
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> limit.inFlight() == 1);
      HealthGrpc.HealthBlockingStub blocking = HealthGrpc.newBlockingStub(ch);
      assertThat(blocking.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
          .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      assertThat(limit.inFlight()).isEqualTo(1);
      var second = blocking.withDeadlineAfter(10, TimeUnit.SECONDS).watch(HealthCheckRequest.getDefaultInstance());
      assertThatThrownBy(second::next).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.getStatus().getDescription()).isEqualTo("gateway is answering 1 Watch calls already; retry with backoff");
      });
      watching.cancel(null);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> limit.inFlight() == 0);
    } finally {
      ch.shutdownNow();
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static StreamObserver<HealthCheckResponse> ignore() {
    return new StreamObserver<>() {
      @Override
      public void onNext(HealthCheckResponse value) {
      }

      @Override
      public void onError(Throwable t) {
      }

      @Override
      public void onCompleted() {
      }
    };
  }
}
