package io.joinflow.activities;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Heartbeats of steps that block in one call. Such a step may wait tens of seconds; with the
 * heartbeat timeout the workflow gives it, a worker that dies mid-step costs the join that
 * timeout, not the step's whole start-to-close timeout, before another worker runs it again
 * (every step is state-based, so running it again is safe).
 */
final class Heartbeats {
  /** One daemon thread is plenty for a heartbeat a second per running step. */
  private static final ScheduledExecutorService BEATS = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "join-step-heartbeats");
    t.setDaemon(true);
    return t;
  });

  private Heartbeats() {}

  /** Runs {@code step} in the calling activity, heartbeating every second from another thread. */
  static <T> T keepAlive(Supplier<T> step) {
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    ScheduledFuture<?> beats = BEATS.scheduleAtFixedRate(() -> {
      try {
        ctx.heartbeat(null);
      } catch (RuntimeException e) {
        // Cancelled or closed: the step itself ends on its own; nothing to report from here.
      }
    }, 1, 1, TimeUnit.SECONDS);
    try {
      return step.get();
    } finally {
      beats.cancel(false);
    }
  }

  static void keepAlive(Runnable step) {
    keepAlive(() -> {
      step.run();
      return null;
    });
  }
}
