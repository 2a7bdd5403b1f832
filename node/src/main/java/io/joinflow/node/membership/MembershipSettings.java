package io.joinflow.node.membership;

import java.time.Duration;

/**
 * The tunables of membership changes and waits, in one place.
 *
 * @param changeTimeout how long one change may retry (re-read, compare-and-set) before it fails
 * @param maxLearnersPerChange the most learners one change adds. The leader commits a change
 *     only once every new member answered within one election timeout and caught up, all at the
 *     same moment; on a loaded 2-core machine a change adding fifteen fresh learners stayed in
 *     staging for 30 s, where changes of a few each went through.
 * @param progressCheck how often a wait on a node's own division (catch-up, its role after a
 *     promotion) asks it again
 * @param promotedRoleWait how long a promotion waits for the promoted node to act as a voter
 *     (normally one heartbeat)
 */
public record MembershipSettings(Duration changeTimeout, int maxLearnersPerChange, Duration progressCheck,
                                 Duration promotedRoleWait) {
  public MembershipSettings {
    if (changeTimeout.isNegative() || changeTimeout.isZero() || maxLearnersPerChange < 1
        || progressCheck.isNegative() || progressCheck.isZero() || promotedRoleWait.isNegative()) {
      throw new IllegalArgumentException("membership settings must be positive: " + changeTimeout + ", "
          + maxLearnersPerChange + ", " + progressCheck + ", " + promotedRoleWait);
    }
  }

  public static MembershipSettings defaults() {
    return new MembershipSettings(Duration.ofSeconds(30), 4, Duration.ofMillis(20), Duration.ofSeconds(5));
  }
}
