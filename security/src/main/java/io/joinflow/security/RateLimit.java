package io.joinflow.security;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.function.LongSupplier;

/**
 * A token bucket for one method of a server, for calls open to callers the server cannot hold
 * to account (the gateway's {@code Bootstrap} takes callers without a certificate, and each call
 * reads group 0's tokens): {@code burst} calls at once, then {@code perSecond} a second. A call
 * beyond them is answered {@code RESOURCE_EXHAUSTED} before it does any work.
 */
public final class RateLimit implements ServerInterceptor {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final String method;
  private final String who;
  private final int perSecond;
  private final int burst;
  private final LongSupplier nanos;
  // The bucket: tokens left as of `at`; guarded by this.
  private double tokens;
  private long at;

  /**
   * @param nanos a monotonic clock in nanoseconds ({@code System::nanoTime} but in tests)
   */
  public RateLimit(MethodDescriptor<?, ?> method, String who, int perSecond, int burst, LongSupplier nanos) {
    if (perSecond < 1 || burst < 1) {
      throw new IllegalArgumentException("a rate limit needs a positive rate and a burst of at least 1");
    }
    this.method = method.getFullMethodName();
    this.who = who;
    this.perSecond = perSecond;
    this.burst = burst;
    this.nanos = nanos;
    this.tokens = burst;
    this.at = nanos.getAsLong();
  }

  public RateLimit(MethodDescriptor<?, ?> method, String who, int perSecond, int burst) {
    this(method, who, perSecond, burst, System::nanoTime);
  }

  /** Takes a token when one is left. */
  synchronized boolean tryAcquire() {
    long now = nanos.getAsLong();
    tokens = Math.min(burst, tokens + (now - at) * (double) perSecond / NANOS_PER_SECOND);
    at = now;
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
    if (!call.getMethodDescriptor().getFullMethodName().equals(method) || tryAcquire()) {
      return next.startCall(call, headers);
    }
    call.close(Status.RESOURCE_EXHAUSTED.withDescription(who + " takes at most " + perSecond + " "
        + call.getMethodDescriptor().getBareMethodName() + " calls a second; retry in a second"), new Metadata());
    return new ServerCall.Listener<>() { };
  }
}
