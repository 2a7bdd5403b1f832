package io.joinflow.activities;

import java.time.Duration;

/**
 * Timing of the join activities.
 *
 * @param membershipDeadline deadline of one ChangeMembership call; the node itself retries a
 *     change for up to 30 s before it gives up, so this must be longer
 * @param pollInterval how often {@code awaitLearner} asks for the learner's progress (and heartbeats)
 * @param pushDeadline deadline of one topology push to one node
 * @param pushAttempts attempts per broadcast target before it is reported unreachable
 */
public record ActivitySettings(Duration membershipDeadline, Duration pollInterval, Duration pushDeadline,
                               int pushAttempts) {

  public ActivitySettings {
    if (pushAttempts < 1) {
      throw new IllegalArgumentException("pushAttempts must be at least 1, got " + pushAttempts);
    }
  }

  public static ActivitySettings defaults() {
    return new ActivitySettings(Duration.ofSeconds(45), Duration.ofMillis(50), Duration.ofSeconds(3), 3);
  }
}
