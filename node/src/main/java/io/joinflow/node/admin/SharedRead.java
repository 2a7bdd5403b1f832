package io.joinflow.node.admin;

import io.grpc.StatusException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * An expensive read (a cluster view asks every group's leader) run once at a time and shared by
 * the callers that wait for it. A caller never gets a result whose read began before its call,
 * since that read may have missed a write the caller just made: a caller that arrives while a
 * read runs waits for it to end and shares the next one with everyone else who arrived in the
 * meantime. However many callers come at once, at most one read is in flight and each caller
 * waits for at most two.
 */
final class SharedRead<T> {
  @FunctionalInterface
  interface Read<T> {
    T read() throws StatusException;
  }

  private final Read<T> read;
  // The read in flight (or about to start) and the one its waiters share next; guarded by this.
  private CompletableFuture<T> running;
  private CompletableFuture<T> next;

  SharedRead(Read<T> read) {
    this.read = read;
  }

  T get() throws StatusException {
    CompletableFuture<T> mine;
    CompletableFuture<T> before = null;
    CompletableFuture<T> shared = null;
    synchronized (this) {
      if (running == null) {
        running = mine = new CompletableFuture<>();
      } else if (next != null) {
        mine = null;
        shared = next;
      } else {
        next = mine = new CompletableFuture<>();
        before = running;
      }
    }
    if (shared != null) {
      // Waited for outside the lock, or every caller after this one would queue on it.
      return await(shared);
    }
    if (before != null) {
      // Whatever it ends with; its end hands `running` over to `mine`.
      before.handle((v, e) -> null).join();
    }
    T value = null;
    Throwable failure = null;
    try {
      value = read.read();
    } catch (Throwable e) {
      failure = e;
    }
    // Hand over before completing: a caller that arrives once this read's result is out must
    // not share a read that began before it (the waiters wake on completion and start theirs).
    synchronized (this) {
      running = next;
      next = null;
    }
    if (failure != null) {
      mine.completeExceptionally(failure);
    } else {
      mine.complete(value);
    }
    return await(mine);
  }

  private static <T> T await(CompletableFuture<T> f) throws StatusException {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof StatusException s) {
        throw s;
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error r) {
        throw r;
      }
      throw e;
    }
  }
}
