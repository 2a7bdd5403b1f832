package io.joinflow.gateway;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.security.Channels;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What a joining node runs: calls Join on the gateways in turn, with backoff while none is
 * reachable, until the overall deadline. A repeated call attaches to the same workflow, so
 * retrying is safe. Any answer other than "unreachable" or "the gateway went away mid-call"
 * ends the loop.
 */
public final class JoinClient implements AutoCloseable {
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<String> targets;

  /** A plaintext client. */
  public JoinClient(List<String> gateways) {
    this(gateways, Channels.plaintext());
  }

  /** A client whose calls go over {@code channels} (the joining node's own certificate). */
  public JoinClient(List<String> gateways, Channels transport) {
    if (gateways.isEmpty()) {
      throw new IllegalArgumentException("at least one gateway address is needed");
    }
    this.targets = List.copyOf(gateways);
    for (String g : gateways) {
      channels.add(transport.channel(g));
    }
  }

  /**
   * @param callTimeout deadline of one Join call (longer than the join's own deadline)
   * @param total how long to keep retrying unreachable gateways
   * @param log progress lines ("gateway a unavailable, retrying in 2 s")
   * @throws StatusRuntimeException the gateway's answer when it is about the join, or the last
   *     UNAVAILABLE, CANCELLED or RESOURCE_EXHAUSTED when {@code total} passed
   */
  public JoinResponse join(JoinRequest request, Duration callTimeout, Duration total, Consumer<String> log)
      throws InterruptedException {
    long deadline = System.nanoTime() + total.toNanos();
    long backoffMs = 250;
    StatusRuntimeException last = null;
    for (int round = 0; ; round++) {
      for (int i = 0; i < channels.size(); i++) {
        try {
          return JoinServiceGrpc.newBlockingStub(channels.get(i))
              .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
              .join(request);
        } catch (StatusRuntimeException e) {
          if (!gatewayGone(e.getStatus())) {
            throw e;
          }
          last = e;
          log.accept("gateway " + targets.get(i) + " unavailable: " + e.getStatus().getDescription());
        }
      }
      if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs) > deadline) {
        throw last;
      }
      log.accept("no gateway answered; retrying in " + backoffMs + " ms");
      Thread.sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 8_000);
    }
  }

  /**
   * True when the call says nothing about the join: no gateway answered (UNAVAILABLE), the
   * gateway stopped while the call waited for the workflow (CANCELLED: the server reset the
   * stream; this client never cancels), or it turned the call away at its door because it is
   * answering as many as it takes (RESOURCE_EXHAUSTED). The join goes on or has not begun, so
   * the answer is still to come.
   */
  static boolean gatewayGone(Status status) {
    return status.getCode() == Status.Code.UNAVAILABLE || status.getCode() == Status.Code.CANCELLED
        || status.getCode() == Status.Code.RESOURCE_EXHAUSTED;
  }

  @Override
  public void close() {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
  }
}
