package io.joinflow.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Real gRPC on loopback, with the bucket's clock in the test's hand. */
class RateLimitTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  @Test
  void shouldAnswerResourceExhaustedBeyondTheBurstAndRefillAtTheRate() throws Exception {
    RateLimit limit = new RateLimit(HealthGrpc.getCheckMethod(), "gateway", 2, 3, now::get);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new HealthStatusManager().getHealthService()).intercept(limit).build().start();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(ch);
    try {
      for (int i = 0; i < 3; i++) {
        assertThat(check(health)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      }
      assertThatThrownBy(() -> check(health)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.getStatus().getDescription())
            .isEqualTo("gateway takes at most 2 Check calls a second; retry in a second");
      });
      // Half a second at 2 a second: one more call, not two.
      now.addAndGet(500_000_000L);
      assertThat(check(health)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      assertThatThrownBy(() -> check(health)).isInstanceOf(StatusRuntimeException.class);
      // A long pause refills the burst, no more.
      now.addAndGet(60_000_000_000L);
      for (int i = 0; i < 3; i++) {
        assertThat(check(health)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      }
      assertThatThrownBy(() -> check(health)).isInstanceOf(StatusRuntimeException.class);
    } finally {
      ch.shutdownNow();
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static HealthCheckResponse.ServingStatus check(HealthGrpc.HealthBlockingStub health) {
    return health.withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus();
  }
}
