package io.joinflow.node.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SharedReadTest {
  private final ExecutorService callers = Executors.newCachedThreadPool();
  private final AtomicInteger reads = new AtomicInteger();
  private final List<Thread> waiting = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() {
    callers.shutdownNow();
  }

  @Test
  void shouldShareOneReadAmongCallersThatArriveWhileAnotherRunsAndNeverHandOutAnOlderOne() throws Exception {
    CountDownLatch first = new CountDownLatch(1);
    CountDownLatch second = new CountDownLatch(1);
    SharedRead<Integer> shared = new SharedRead<>(() -> {
      int n = reads.incrementAndGet();
      hold(n == 1 ? first : second);
      return n;
    });
    Future<Integer> a = callers.submit(shared::get);
    await().atMost(Duration.ofSeconds(10)).until(() -> reads.get() == 1);
    // These arrive while read 1 runs: it may have missed what they wrote just before, so they
    // get read 2, which they all share.
    List<Future<Integer>> later = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      later.add(callers.submit(() -> {
        waiting.add(Thread.currentThread());
        return shared.get();
      }));
    }
    // Parked inside get(), waiting for read 1 to end.
    await().atMost(Duration.ofSeconds(10)).until(() -> waiting.size() == 8
        && waiting.stream().allMatch(t -> t.getState() == Thread.State.WAITING));
    first.countDown();
    assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> reads.get() == 2);
    second.countDown();
    for (Future<Integer> f : later) {
      assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(2);
    }
    assertThat(reads).hasValue(2);
    // Nothing in flight: the next caller reads afresh.
    assertThat(shared.get()).isEqualTo(3);
  }

  @Test
  void shouldGiveEverySharerTheFailureAndReadAgainAfterIt() throws Exception {
    SharedRead<Integer> shared = new SharedRead<>(() -> {
      if (reads.incrementAndGet() == 1) {
        throw Status.UNAVAILABLE.withDescription("group 3 has no leader").asException();
      }
      return 7;
    });
    assertThatThrownBy(shared::get).isInstanceOfSatisfying(StatusException.class,
        e -> assertThat(e.getStatus().getDescription()).isEqualTo("group 3 has no leader"));
    assertThat(shared.get()).isEqualTo(7);
  }

  private static void hold(CountDownLatch latch) {
    try {
      if (!latch.await(20, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the read");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
