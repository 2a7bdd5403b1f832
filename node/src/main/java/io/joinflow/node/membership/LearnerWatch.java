package io.joinflow.node.membership;

import io.joinflow.node.raft.ClusterIds;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.ratis.proto.RaftProtos.LogInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;

/**
 * Every wait on a member's own division: a learner catching up and a promoted node taking up
 * its vote. A wait reads the configuration and the target once, then checks again every
 * {@link MembershipSettings#progressCheck()}, from a shared scheduler: a waiting call holds no
 * thread.
 *
 * <p>A learner has caught up once its log holds every entry up to the target (the leader's
 * commit index when the wait began, or the index of the configuration entry that added it),
 * judged as the leader judges it: the leader's match index for the learner, read in process
 * where this node hosts the group's leader ({@link LeaderMatchIndex}). Elsewhere the learner's
 * own last log entry stands in for it, counted only when that entry has the leader's current
 * term: by Raft's log matching, the learner's log then equals the leader's up to that entry.
 * Either is known one round trip after the leader sent the entries. The learner's applied index
 * (what the wait judged before) lags one AppendEntries more: the learner learns the commit index
 * only from the leader's next message, which for an idle group is a heartbeat, half the minimum
 * election timeout. A learner whose log holds the committed entries can be promoted without
 * stalling its group: as a voter it acknowledges the next entry at once, as etcd's promotion
 * rule (learner match at least 90% of the leader's) and Ratis' staging (match within the
 * catch-up gap and past the configuration entry) assume too.
 */
public final class LearnerWatch {
  private static final long FIRST_RECHECK_MICROS = 2_000;
  private final ConfReader confs;
  private final LeaderMatchIndex leaderMatch;
  private final ScheduledExecutorService scheduler;
  private final MembershipSettings settings;

  public LearnerWatch(ConfReader confs, LeaderMatchIndex leaderMatch, ScheduledExecutorService scheduler,
                      MembershipSettings settings) {
    this.confs = confs;
    this.leaderMatch = leaderMatch;
    this.scheduler = scheduler;
    this.settings = settings;
  }

  /**
   * A learner's progress against a target index.
   *
   * @param applied the index the node's state machine applied, as last asked of the node
   * @param matched the last index the node's log holds in the leader's term: the leader's match
   *     index for it, or the node's own last entry when this node does not host the leader
   */
  public record Progress(boolean inConf, boolean learner, boolean voter, long applied, long matched, long target) {
    public boolean caughtUp() {
      return inConf && Math.max(applied, matched) >= target;
    }
  }

  /**
   * A learner's progress and where to ask it again.
   *
   * @param progress the progress now
   * @param learner the peer to ask for its applied index (null when it is in no configuration)
   * @param leaderTerm the leader's term when the wait began: a log entry of another term does
   *     not count as matched
   */
  public record ProgressWatch(Progress progress, RaftPeer learner, long leaderTerm) {
    ProgressWatch with(long applied, long matched) {
      Progress p = progress;
      return new ProgressWatch(new Progress(p.inConf(), p.learner(), p.voter(), Math.max(p.applied(), applied),
          Math.max(p.matched(), matched), p.target()), learner, leaderTerm);
    }
  }

  /**
   * Reads the group's configuration and, if {@code node} is in it, how far its log got.
   *
   * @param targetIndex the index to catch up to; 0 = the leader's commit index now
   */
  public ProgressWatch watch(RaftGroupId groupId, RaftPeer node, Collection<RaftPeer> candidates, long targetIndex)
      throws IOException {
    Conf conf = confs.readConf(groupId, candidates);
    boolean learner = conf.isListener(node.getId());
    boolean voter = conf.isVoter(node.getId());
    long target = targetIndex > 0 ? targetIndex : conf.leaderCommitIndex();
    if (!learner && !voter) {
      return new ProgressWatch(new Progress(false, false, false, 0, 0, target), null, conf.leaderTerm());
    }
    RaftPeer addressed = Objects.requireNonNullElse(
        conf.listeners().stream().filter(p -> p.getId().equals(node.getId())).findFirst()
            .orElse(conf.voters().stream().filter(p -> p.getId().equals(node.getId())).findFirst().orElse(null)),
        node);
    ProgressWatch initial = new ProgressWatch(new Progress(true, learner, voter, 0, 0, target), addressed,
        conf.leaderTerm());
    return check(groupId, initial);
  }

  /** The watch after one more look: the leader's match index if it is here, else the node's own log. */
  private ProgressWatch check(RaftGroupId groupId, ProgressWatch current) throws IOException {
    OptionalLong match = leaderMatch.of(groupId, current.learner().getId());
    if (match.isPresent()) {
      return current.with(0, match.getAsLong());
    }
    LogInfoProto log = confs.groupInfo(groupId, current.learner()).getLogInfoProto();
    long matched = log.getLastEntry().getTerm() == current.leaderTerm() ? log.getLastEntry().getIndex() : 0;
    return current.with(log.getApplied().getIndex(), matched);
  }

  /**
   * Completes with the watch once its learner caught up, or with the last progress seen when
   * {@code within} passed; exceptionally when the learner cannot be asked.
   */
  public CompletableFuture<ProgressWatch> awaitCaughtUp(RaftGroupId groupId, ProgressWatch watch, Duration within) {
    CompletableFuture<ProgressWatch> done = new CompletableFuture<>();
    if (watch.progress().caughtUp() || watch.learner() == null) {
      done.complete(watch);
      return done;
    }
    long deadline = System.nanoTime() + within.toNanos();
    Poll<ProgressWatch> poll = new Poll<>(done, deadline, watch, current -> check(groupId, current),
        w -> w.progress().caughtUp());
    poll.schedule();
    return done;
  }

  /**
   * Waits, blocking, until {@code node}'s log holds the leader's commit index taken when waiting
   * began (see the class comment).
   *
   * @throws MembershipException (retryable) when it did not within {@code timeout}
   */
  public Progress awaitCaughtUp(RaftGroupId groupId, RaftPeer node, Collection<RaftPeer> candidates,
                                Duration timeout) throws IOException {
    ProgressWatch watch = watch(groupId, node, candidates, 0);
    ProgressWatch last = join(awaitCaughtUp(groupId, watch, timeout), groupId);
    if (!last.progress().caughtUp()) {
      throw new MembershipException("group " + ClusterIds.groupNumber(groupId) + ": " + node.getId()
          + " holds " + Math.max(last.progress().applied(), last.progress().matched()) + " of " + last.progress().target() + " within "
          + timeout.toMillis() + " ms", true, null);
    }
    return last.progress();
  }

  /**
   * Waits, blocking, at most {@link MembershipSettings#promotedRoleWait()}, until a promoted
   * node's own division acts as a voter. The leader commits a promotion once a majority of the
   * new voters holds it, which need not include the promoted node; until that node learns the
   * new configuration is stable it stays a Ratis listener, and a listener asked for its vote
   * fails the request. Were the leader to die in that window, a group of three voters would have
   * one that can vote left and elect no one until the old leader returns (seen: group 0 killed
   * 140 ms after a promotion).
   *
   * @return whether it acts as a voter
   */
  public boolean awaitVoting(RaftGroupId groupId, RaftPeer peer) throws IOException {
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    long deadline = System.nanoTime() + settings.promotedRoleWait().toNanos();
    Poll<Boolean> poll = new Poll<>(done, deadline, false, ignored -> {
      try {
        RaftPeerRole role = confs.groupInfo(groupId, peer).getRoleInfoProto().getRole();
        return role == RaftPeerRole.FOLLOWER || role == RaftPeerRole.LEADER || role == RaftPeerRole.CANDIDATE;
      } catch (IOException e) {
        // Unreachable for a moment: ask again until the deadline.
        return false;
      }
    }, voting -> voting);
    poll.check();
    return join(done, groupId);
  }

  /** Reads the role and log of a member's own division (what the waits poll). */
  public GroupInfoReply info(RaftGroupId groupId, RaftPeer peer) throws IOException {
    return confs.groupInfo(groupId, peer);
  }

  @FunctionalInterface
  private interface Step<T> {
    T next(T current) throws IOException;
  }

  /**
   * One polling wait, rescheduled on the shared scheduler until its condition holds or its
   * deadline passes. The first checks come soon and the interval doubles up to
   * {@link MembershipSettings#progressCheck()}: the leader hears back from a learner within a
   * round trip of a few milliseconds on a LAN, and a check that waits a full interval would be
   * most of the wait.
   */
  private final class Poll<T> implements Runnable {
    private final CompletableFuture<T> done;
    private final long deadline;
    private final Step<T> step;
    private final Predicate<T> reached;
    private T current;
    private long delayMicros = FIRST_RECHECK_MICROS;

    Poll(CompletableFuture<T> done, long deadline, T initial, Step<T> step, Predicate<T> reached) {
      this.done = done;
      this.deadline = deadline;
      this.current = initial;
      this.step = step;
      this.reached = reached;
    }

    void schedule() {
      try {
        long max = TimeUnit.NANOSECONDS.toMicros(settings.progressCheck().toNanos());
        long delay = Math.min(delayMicros, max);
        delayMicros = Math.min(max, delayMicros * 2);
        scheduler.schedule(this, delay, TimeUnit.MICROSECONDS);
      } catch (RejectedExecutionException e) {
        // The node is stopping: answer with what is known.
        done.complete(current);
      }
    }

    void check() {
      run();
    }

    @Override
    public void run() {
      if (done.isDone()) {
        return;
      }
      try {
        current = step.next(current);
      } catch (IOException | RuntimeException e) {
        done.completeExceptionally(e);
        return;
      }
      if (reached.test(current) || System.nanoTime() - deadline >= 0) {
        done.complete(current);
      } else {
        schedule();
      }
    }
  }

  private static <T> T join(CompletableFuture<T> f, RaftGroupId groupId) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      f.cancel(false);
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting on group " + ClusterIds.groupNumber(groupId));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(e.getCause().getMessage(), e.getCause());
    }
  }
}
