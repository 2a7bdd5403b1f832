package io.joinflow.node;

import io.joinflow.node.membership.MembershipSettings;
import java.time.Duration;

/**
 * The threads, timeouts and limits of a node's services, in one immutable place.
 *
 * @param adminThreads threads answering NodeAdmin calls. Calls block: a membership change waits
 *     its turn behind the group's running change for up to the change timeout, and changes merge
 *     only while they wait together; so enough threads that the additions of many simultaneous
 *     joins can wait at once and reads still get through (8 were too few). Idle threads end.
 * @param groupReadThreads threads reading group configurations at once for a cluster view (one
 *     round trip to each group's leader, made in parallel)
 * @param waitThreads threads of the scheduler that checks waiting calls (a learner catching up,
 *     a promoted node taking its vote): short RPCs, never blocking
 * @param hostingThreads the most blocking hosting calls one merged learner addition makes at once
 * @param transferTimeout how long one leadership transfer may take (about 80 ms measured;
 *     elections take about 0.5 s)
 * @param maxProgressWait the longest a LearnerProgress call may wait on the node; callers call
 *     again to wait longer
 * @param membership the tunables of membership changes and waits
 */
public record NodeTunables(int adminThreads, int groupReadThreads, int waitThreads, int hostingThreads,
                           Duration transferTimeout, Duration maxProgressWait, MembershipSettings membership) {
  public NodeTunables {
    if (adminThreads < 1 || groupReadThreads < 1 || waitThreads < 1 || hostingThreads < 1) {
      throw new IllegalArgumentException("thread counts must be at least 1");
    }
  }

  public static NodeTunables defaults() {
    return new NodeTunables(64, 16, 4, 16, Duration.ofSeconds(5), Duration.ofSeconds(10),
        MembershipSettings.defaults());
  }
}
