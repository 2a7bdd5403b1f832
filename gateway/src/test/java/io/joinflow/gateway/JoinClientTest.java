package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The joining side's retry rules, against a real gRPC server on loopback. */
class JoinClientTest {
  private Server server;
  private final AtomicInteger calls = new AtomicInteger();

  /** A gateway that answers each Join with the next scripted status, then with success. */
  private String gateway(Status... first) throws Exception {
    Deque<Status> script = new ArrayDeque<>(List.of(first));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new JoinServiceGrpc.JoinServiceImplBase() {
          @Override
          public void join(JoinRequest request, StreamObserver<JoinResponse> out) {
            calls.incrementAndGet();
            Status next = script.poll();
            if (next != null) {
              out.onError(next.asException());
              return;
            }
            out.onNext(JoinResponse.newBuilder().setSuccess(true).setRunId("run-1").build());
            out.onCompleted();
          }
        }).build().start();
    return "127.0.0.1:" + server.getPort();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.shutdownNow();
    }
  }

  @Test
  void shouldCallAgainWhenTheGatewayStoppedMidCall() throws Exception {
    // A gateway that stops while a Join waits resets the stream: CANCELLED. The workflow goes
    // on, so the node must ask again and attach to it instead of reporting a failed join.
    String gateway = gateway(Status.CANCELLED.withDescription("RST_STREAM closed stream"),
        Status.UNAVAILABLE.withDescription("gateway restarting"));
    try (JoinClient client = new JoinClient(List.of(gateway))) {
      JoinResponse r = client.join(JoinRequest.newBuilder().setNodeId(4).build(), Duration.ofSeconds(5),
          Duration.ofSeconds(30), line -> { });
      assertThat(r.getSuccess()).isTrue();
      assertThat(r.getRunId()).isEqualTo("run-1");
    }
    assertThat(calls).hasValue(3);
  }

  @Test
  void shouldCallABusyGatewayAgainAfterABackoff() throws Exception {
    // The gateway's Join bound turns a call away before any workflow starts: ask again later.
    String gateway = gateway(Status.RESOURCE_EXHAUSTED
        .withDescription("gateway is answering 48 Join calls already; retry with backoff"));
    List<String> lines = new java.util.ArrayList<>();
    try (JoinClient client = new JoinClient(List.of(gateway))) {
      assertThat(client.join(JoinRequest.newBuilder().setNodeId(4).build(), Duration.ofSeconds(5),
          Duration.ofSeconds(30), lines::add).getSuccess()).isTrue();
    }
    assertThat(calls).hasValue(2);
    assertThat(lines).anyMatch(l -> l.contains("answering 48 Join calls already"));
  }

  @Test
  void shouldReturnTheGatewaysRefusalAtOnce() throws Exception {
    String gateway = gateway(Status.ALREADY_EXISTS.withDescription("node_id 4 already registered"));
    try (JoinClient client = new JoinClient(List.of(gateway))) {
      assertThatThrownBy(() -> client.join(JoinRequest.newBuilder().setNodeId(4).build(), Duration.ofSeconds(5),
          Duration.ofSeconds(30), line -> { }))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
    }
    assertThat(calls).hasValue(1);
  }
}
