package io.joinflow.node.membership;

import io.joinflow.node.raft.RaftClients;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A node's membership parts, built together: configuration reads, division hosting, the one
 * configuration-change class, the learner watch every wait uses, and leadership moves.
 */
public record Membership(ConfReader confs, DivisionHosting hosting, ConfChanges changes, LearnerWatch watch,
                         Leadership leadership) {

  /**
   * @param leaderMatch the leader's match indices where this node hosts a group's leader
   * @param scheduler runs the waits' checks (never blocks)
   * @param blockingCalls runs blocking hosting calls in parallel
   */
  public static Membership create(RaftClients clients, LeaderMatchIndex leaderMatch, MembershipSettings settings,
                                  ScheduledExecutorService scheduler, Executor blockingCalls) {
    ConfReader confs = new ConfReader(clients);
    DivisionHosting hosting = new DivisionHosting(clients);
    LearnerWatch watch = new LearnerWatch(confs, leaderMatch, scheduler, settings);
    return new Membership(confs, hosting, new ConfChanges(clients, confs, hosting, watch, settings, blockingCalls),
        watch, new Leadership(clients, confs));
  }
}
