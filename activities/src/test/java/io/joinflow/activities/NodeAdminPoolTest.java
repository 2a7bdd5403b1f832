package io.joinflow.activities;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.NodeAdminGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Fail-over of {@link NodeAdminPool} against small NodeAdmin servers on loopback ports. */
class NodeAdminPoolTest {
  private final List<Server> servers = new ArrayList<>();
  private NodeAdminPool pool;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (pool != null) {
      pool.close();
    }
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** A node that answers the cluster view with its id, or fails with {@code status}, after {@code delay}. */
  private static final class FakeNode extends NodeAdminGrpc.NodeAdminImplBase {
    final long id;
    final Status status;
    final Duration delay;
    final AtomicInteger calls = new AtomicInteger();

    FakeNode(long id, Status status, Duration delay) {
      this.id = id;
      this.status = status;
      this.delay = delay;
    }

    @Override
    public void getClusterView(GetClusterViewRequest request, StreamObserver<ClusterView> out) {
      calls.incrementAndGet();
      try {
        Thread.sleep(delay.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (status.isOk()) {
        out.onNext(ClusterView.newBuilder().setAnsweredBy(id).build());
        out.onCompleted();
      } else {
        out.onError(status.asRuntimeException());
      }
    }
  }

  private String serve(FakeNode node) {
    try {
      Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(node).build().start();
      servers.add(s);
      return "127.0.0.1:" + s.getPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String deadAddress() {
    try (ServerSocket s = new ServerSocket(0)) {
      return "127.0.0.1:" + s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private long answeredBy() {
    return pool.call("cluster view", stub -> stub.getClusterView(GetClusterViewRequest.getDefaultInstance()))
        .getAnsweredBy();
  }

  @Test
  void shouldMoveOnPastAnUnreachableNodeAndStayWithTheOneThatAnswered() {
    FakeNode up = new FakeNode(2, Status.OK, Duration.ZERO);
    FakeNode other = new FakeNode(3, Status.OK, Duration.ZERO);
    pool = new NodeAdminPool(List.of(deadAddress(), serve(up), serve(other)));

    assertThat(answeredBy()).isEqualTo(2);
    assertThat(answeredBy()).isEqualTo(2);

    assertThat(up.calls).hasValue(2);
    assertThat(other.calls).hasValue(0);
  }

  @Test
  void shouldReturnANodesOwnUnavailableAndStartWithTheNextNodeNextTime() {
    // "no reachable leader": the node answered; asking the next one now would repeat its wait.
    FakeNode cutOff = new FakeNode(1, Status.UNAVAILABLE.withDescription("no reachable leader for group 3"),
        Duration.ZERO);
    FakeNode up = new FakeNode(2, Status.OK, Duration.ZERO);
    pool = new NodeAdminPool(List.of(serve(cutOff), serve(up)));

    assertThatThrownBy(this::answeredBy).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getStatus().getDescription()).isEqualTo("no reachable leader for group 3");
    });
    assertThat(up.calls).hasValue(0);

    assertThat(answeredBy()).isEqualTo(2);
    assertThat(cutOff.calls).hasValue(1);
  }

  @Test
  void shouldTellUnreachableFromAnswered() {
    assertThat(NodeAdminPool.unreachable(Status.UNAVAILABLE.withCause(new java.net.ConnectException()))).isTrue();
    assertThat(NodeAdminPool.unreachable(Status.DEADLINE_EXCEEDED)).isTrue();
    assertThat(NodeAdminPool.unreachable(Status.UNAVAILABLE.withDescription("no leader"))).isFalse();
    assertThat(NodeAdminPool.unreachable(Status.FAILED_PRECONDITION.withCause(new RuntimeException()))).isFalse();
  }

  @Test
  void shouldMoveOnPastANodeThatMissesTheDeadline() {
    FakeNode slow = new FakeNode(1, Status.OK, Duration.ofMillis(2_000));
    FakeNode fast = new FakeNode(2, Status.OK, Duration.ZERO);
    pool = new NodeAdminPool(List.of(serve(slow), serve(fast)), Duration.ofMillis(200));

    assertThat(answeredBy()).isEqualTo(2);
  }

  @Test
  void shouldReturnARejectionAtOnceWithoutAskingOtherNodes() {
    FakeNode rejecting = new FakeNode(1, Status.FAILED_PRECONDITION.withDescription("not today"), Duration.ZERO);
    FakeNode other = new FakeNode(2, Status.OK, Duration.ZERO);
    pool = new NodeAdminPool(List.of(serve(rejecting), serve(other)));

    assertThatThrownBy(this::answeredBy)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).isEqualTo("not today");
        });
    assertThat(other.calls).hasValue(0);
  }

  @Test
  void shouldThrowTheLastStatusNamingEveryNodeWhenNoneAnswers() {
    String a = deadAddress();
    String b = deadAddress();
    pool = new NodeAdminPool(List.of(a, b));

    assertThatThrownBy(this::answeredBy)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).startsWith("cluster view: no cluster node answered")
              .contains(a).contains(b);
        });
  }

  @Test
  void shouldCallOneAddressWithoutFailOver() {
    FakeNode joining = new FakeNode(4, Status.OK, Duration.ZERO);
    String address = serve(joining);
    pool = new NodeAdminPool(List.of(deadAddress()));

    long id = pool.callAt(address, "view", stub -> stub.getClusterView(GetClusterViewRequest.getDefaultInstance()))
        .getAnsweredBy();

    assertThat(id).isEqualTo(4);
    assertThatThrownBy(() -> pool.callAt("no-port", "view",
        stub -> stub.getClusterView(GetClusterViewRequest.getDefaultInstance())))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void shouldRefuseAnEmptyOrMalformedAddressList() {
    assertThatThrownBy(() -> new NodeAdminPool(List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new NodeAdminPool(List.of("127.0.0.1"))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void shouldRefuseCallsAfterClose() {
    pool = new NodeAdminPool(List.of(serve(new FakeNode(1, Status.OK, Duration.ZERO))));
    assertThat(answeredBy()).isEqualTo(1);

    pool.close();

    assertThatThrownBy(this::answeredBy).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }
}
