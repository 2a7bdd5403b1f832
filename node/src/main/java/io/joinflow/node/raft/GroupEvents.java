package io.joinflow.node.raft;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What one division of this node saw happen to its group since it started: leader changes and
 * configuration changes applied. Counted from the state machine's Ratis events, so it is per
 * division and starts at zero when the process (or the division) starts, as a Prometheus
 * counter may.
 */
public final class GroupEvents {
  private final AtomicLong leaderChanges = new AtomicLong();
  private final AtomicLong configurationChanges = new AtomicLong();

  void leaderChanged() {
    leaderChanges.incrementAndGet();
  }

  void configurationChanged() {
    configurationChanges.incrementAndGet();
  }

  /** Leaders this division learned of (including becoming leader itself). */
  public long leaderChanges() {
    return leaderChanges.get();
  }

  /**
   * Configurations this division applied (the group's first, then one per learner added,
   * promoted or removed; the joint entry between two is not counted).
   */
  public long configurationChanges() {
    return configurationChanges.get();
  }

  /** Implemented by every state machine of a node. */
  public interface Source {
    GroupEvents events();
  }
}
