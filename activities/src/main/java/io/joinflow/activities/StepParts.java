package io.joinflow.activities;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The parts of a step that does the work of several ({@code prepare}: validate, registerPeer,
 * admit; {@code finish}: persist, broadcast), announced in the activity's own thread as each
 * part begins. Nothing listens in production; a worker interceptor that stops a role at a chosen
 * step (the crash matrix, {@code joinflow demo --crash-leader-during}) listens around the
 * activity it intercepts, so a part is a point it can stop at like a step of its own.
 */
public final class StepParts {
  private static final ThreadLocal<Consumer<String>> LISTENER = new ThreadLocal<>();

  private StepParts() {}

  /** Tells the listener of this thread, if any, that {@code part} begins now. */
  static void begin(String part) {
    Consumer<String> listener = LISTENER.get();
    if (listener != null) {
      listener.accept(part);
    }
  }

  /** Runs {@code body} with {@code listener} told of every part that begins in it, in this thread. */
  public static <T> T listening(Consumer<String> listener, Supplier<T> body) {
    Consumer<String> before = LISTENER.get();
    LISTENER.set(listener);
    try {
      return body.get();
    } finally {
      if (before == null) {
        LISTENER.remove();
      } else {
        LISTENER.set(before);
      }
    }
  }
}
