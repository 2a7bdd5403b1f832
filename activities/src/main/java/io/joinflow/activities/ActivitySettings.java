package io.joinflow.activities;

import java.time.Duration;

/**
 * Timing of the join activities.
 *
 * @param membershipDeadline deadline of one ChangeMembership call; the node itself retries a
 *     change for up to 30 s before it gives up, so this must be longer
 * @param pollInterval the least time between two progress calls of {@code awaitLearner}
 * @param progressWait how long one progress call of {@code awaitLearner} may wait on the node for
 *     the learner to catch up; {@code awaitLearner} heartbeats between calls, so this stays well
 *     below the step's heartbeat timeout
 * @param pushDeadline deadline of one topology push to one node
 * @param pushAttempts attempts per broadcast target before it is reported unreachable
 */
public record ActivitySettings(Duration membershipDeadline, Duration pollInterval, Duration progressWait,
                               Duration pushDeadline, int pushAttempts) {

  public ActivitySettings {
    if (progressWait.isNegative() || progressWait.toMillis() > 10_000) {
      throw new IllegalArgumentException("progressWait must be 0..10 s, got " + progressWait);
    }
    if (pushAttempts < 1) {
      throw new IllegalArgumentException("pushAttempts must be at least 1, got " + pushAttempts);
    }
  }

  public static ActivitySettings defaults() {
    return new ActivitySettings(Duration.ofSeconds(45), Duration.ofMillis(50), Duration.ofSeconds(1),
        Duration.ofSeconds(3), 3);
  }
}
