package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.BootstrapRequest;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.workflows.JoinOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's own bounds over real gRPC on loopback (H9). Joins are held where they read the
 * cluster, so they keep their threads as a join waiting for its workflow would; nothing reaches
 * Temporal (its address answers nobody).
 */
class GatewayLimitsTest {
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicBoolean hold = new AtomicBoolean();
  private final AtomicInteger held = new AtomicInteger();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private WorkflowServiceStubs stubs;
  private JoinGateway gateway;

  @AfterEach
  void tearDown() {
    release.countDown();
    channels.forEach(ManagedChannel::shutdownNow);
    if (gateway != null) {
      gateway.close();
    }
    if (stubs != null) {
      stubs.shutdownNow();
    }
  }

  private HostPort start() throws Exception {
    ClusterMetadataSource source = () -> {
      if (hold.get()) {
        held.incrementAndGet();
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      throw Status.UNAVAILABLE.withDescription("no node answers (test)").asException();
    };
    stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget("127.0.0.1:" + freePort()).build());
    HostPort address = new HostPort("127.0.0.1", freePort());
    gateway = JoinGateway.start(address, new JoinServiceImpl(WorkflowClient.newInstance(stubs), source,
        JoinOptions.defaults()));
    return address;
  }

  private ManagedChannel channel(HostPort address) {
    ManagedChannel ch = NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build();
    channels.add(ch);
    return ch;
  }

  @Test
  void shouldTurnAwayJoinsBeyondItsBoundWhileOtherCallsStillGetThrough() throws Exception {
    HostPort address = start();
    hold.set(true);
    // Two connections: one opens at most 32 streams.
    List<ManagedChannel> two = List.of(channel(address), channel(address));
    for (int i = 0; i < JoinGateway.MAX_JOINS_IN_FLIGHT; i++) {
      JoinServiceGrpc.newStub(two.get(i % 2)).withDeadlineAfter(60, TimeUnit.SECONDS)
          .join(join(100 + i), ignore());
    }
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> held.get() == JoinGateway.MAX_JOINS_IN_FLIGHT);

    ManagedChannel third = channel(address);
    assertThatThrownBy(() -> JoinServiceGrpc.newBlockingStub(third).withDeadlineAfter(20, TimeUnit.SECONDS)
        .join(join(999))).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getStatus().getDescription())
              .isEqualTo("gateway is answering 48 Join calls already; retry with backoff");
        });
    assertThat(held).hasValue(JoinGateway.MAX_JOINS_IN_FLIGHT);
    // The threads the joins leave answer everyone else.
    assertThat(HealthGrpc.newBlockingStub(third).withDeadlineAfter(20, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void shouldAnswerBootstrapAtMostAtItsRate() throws Exception {
    HostPort address = start();
    ManagedChannel ch = channel(address);
    long started = System.nanoTime();
    int answered = 0;
    int limited = 0;
    for (int i = 0; i < 3 * JoinGateway.BOOTSTRAP_BURST; i++) {
      try {
        JoinServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
            .bootstrap(BootstrapRequest.newBuilder().setNodeId(4).build());
        answered++;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
          assertThat(e.getStatus().getDescription())
              .isEqualTo("gateway takes at most 10 Bootstrap calls a second; retry in a second");
          limited++;
        } else {
          answered++;
        }
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    // The burst, and the rate for the time the calls took (plus one for rounding), no more.
    assertThat(answered).isLessThanOrEqualTo(JoinGateway.BOOTSTRAP_BURST
        + (int) Math.ceil(seconds * JoinGateway.BOOTSTRAPS_PER_SECOND) + 1);
    assertThat(answered + limited).isEqualTo(3 * JoinGateway.BOOTSTRAP_BURST);
  }

  private static JoinRequest join(long nodeId) {
    return JoinRequest.newBuilder().setNodeId(nodeId).setListenAddr("127.0.0.1:" + (20000 + nodeId)).build();
  }

  private static StreamObserver<JoinResponse> ignore() {
    return new StreamObserver<>() {
      @Override
      public void onNext(JoinResponse value) {
      }

      @Override
      public void onError(Throwable t) {
      }

      @Override
      public void onCompleted() {
      }
    };
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
