package io.joinflow.security;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Bounds the calls a server works on at once. A call beyond the bound is answered
 * {@code RESOURCE_EXHAUSTED} at once, so a flood of slow calls (membership changes wait up to a
 * minute, a Join waits for its workflow) cannot queue without end behind the server's threads
 * and starve everyone else. {@link #forMethods} bounds some methods only, leaving the rest of
 * the server's threads to the others.
 */
public final class CallLimit implements ServerInterceptor {
  private final int max;
  private final String who;
  private final String what;
  private final Set<String> methods;
  private final AtomicInteger inFlight = new AtomicInteger();

  /** Bounds every call; beyond {@code max}: "who is answering max calls already". */
  public CallLimit(int max, String who) {
    this(max, who, "calls", Set.of());
  }

  private CallLimit(int max, String who, String what, Set<String> methods) {
    if (max < 1) {
      throw new IllegalArgumentException("a call limit must be at least 1, not " + max);
    }
    this.max = max;
    this.who = who;
    this.what = what;
    this.methods = methods;
  }

  /** Bounds the calls of these methods together; other calls pass. */
  public static CallLimit forMethods(int max, String who, MethodDescriptor<?, ?>... bounded) {
    Set<String> names = Arrays.stream(bounded).map(MethodDescriptor::getFullMethodName).collect(Collectors.toSet());
    String what = Arrays.stream(bounded).map(MethodDescriptor::getBareMethodName).sorted()
        .collect(Collectors.joining(", ")) + " calls";
    return new CallLimit(max, who, what, Set.copyOf(names));
  }

  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
    if (!methods.isEmpty() && !methods.contains(call.getMethodDescriptor().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    if (inFlight.incrementAndGet() > max) {
      inFlight.decrementAndGet();
      call.close(Status.RESOURCE_EXHAUSTED.withDescription(who + " is answering " + max
          + " " + what + " already; retry with backoff"), new Metadata());
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
