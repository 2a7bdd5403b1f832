package io.joinflow.node.admin;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the calls a node works on at once. A call beyond the bound is answered
 * {@code RESOURCE_EXHAUSTED} at once, so a flood of slow calls (membership changes wait up to a
 * minute) cannot queue without end behind the admin threads and starve everyone else.
 */
public final class CallLimit implements ServerInterceptor {
  private final int max;
  private final String who;
  private final AtomicInteger inFlight = new AtomicInteger();

  public CallLimit(int max, String who) {
    this.max = max;
    this.who = who;
  }

  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
    if (inFlight.incrementAndGet() > max) {
      inFlight.decrementAndGet();
      call.close(Status.RESOURCE_EXHAUSTED.withDescription(who + " is answering " + max
          + " calls already; retry with backoff"), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    AtomicBoolean done = new AtomicBoolean();
    Runnable release = () -> {
      if (done.compareAndSet(false, true)) {
        inFlight.decrementAndGet();
      }
    };
    ServerCall.Listener<Q> delegate;
    try {
      delegate = next.startCall(call, headers);
    } catch (RuntimeException e) {
      release.run();
      throw e;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          release.run();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          release.run();
        }
      }
    };
  }
}
