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
  void shouldFollowTheNewestRunOfAJoin() {
    inFlight.waiting("join/1/4", "run-a");
    inFlight.waiting("join/1/4", "run-b");

    inFlight.done("join/1/4", "run-a");
    assertThat(inFlight.size()).isEqualTo(1);
    inFlight.done("join/1/4", "run-b");
    assertThat(inFlight.size()).isZero();
  }
}
