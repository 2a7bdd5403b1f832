package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JoinsInFlightTest {
  private final JoinsInFlight inFlight = new JoinsInFlight(null, () -> 0);

  @Test
  void shouldCountAJoinTwoCallsWaitForOnceUntilBothStop() {
    inFlight.waiting("join/1/4", "run-a");
    inFlight.waiting("join/1/4", "run-a");
    inFlight.waiting("join/1/5", "run-b");

    assertThat(inFlight.size()).isEqualTo(2);

    inFlight.done("join/1/4", "run-a");
    assertThat(inFlight.size()).isEqualTo(2);
    inFlight.done("join/1/4", "run-a");
    inFlight.done("join/1/5", "run-b");
    assertThat(inFlight.size()).isZero();
  }

  @Test
  void shouldReadPhasesAtTheFirstScrapeAndThenAtMostEveryRefresh() {
    long[] now = {0};
    int[] reads = {0};
    JoinsInFlight counted = new JoinsInFlight(null, () -> now[0]) {
      @Override
      java.util.Map<String, Integer> read() {
        reads[0]++;
        return java.util.Map.of("learners", 1);
      }
    };

    assertThat(counted.count("learners")).isEqualTo(1);
    assertThat(counted.count("admit")).isZero();
    now[0] = JoinsInFlight.REFRESH_MILLIS - 1;
    counted.count("learners");
    assertThat(reads[0]).isEqualTo(1);
    now[0] = JoinsInFlight.REFRESH_MILLIS;
    counted.count("learners");
    assertThat(reads[0]).isEqualTo(2);
  }

  @Test
  void shouldFollowTheNewestRunOfAJoin() {
    inFlight.waiting("join/1/4", "run-a");
    inFlight.waiting("join/1/4", "run-b");

    inFlight.done("join/1/4", "run-a");
    assertThat(inFlight.size()).isEqualTo(1);
    inFlight.done("join/1/4", "run-b");
    assertThat(inFlight.size()).isZero();
  }
}
