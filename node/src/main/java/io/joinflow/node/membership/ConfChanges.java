package io.joinflow.node.membership;

import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.RaftClients;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only code that changes Ratis configurations. It follows RATIS.md's recipe: read the
 * current conf from the group's leader, host the division on a joining node first (voters +
 * itself as LISTENER), then compare-and-set the whole conf. What to change is a {@link Plan}
 * decided on the conf the compare-and-set replaces, so a decision can never be made on a conf
 * that changed since it was read (a learner's removal never removes a node promoted meanwhile).
 * Reaching a conf that already holds the target is success, including after a leader change
 * made a committed change look like a {@code SetConfigurationException}. The plans are in
 * {@link ConfPlans}. At most one change
 * per group runs at a time on this node, and learner additions that wait for it are merged into
 * one change; a concurrent change elsewhere makes the CAS fail and the loop re-reads.
 * {@code Mode.ADD} is never used (it drops other listeners in Ratis 3.3.0).
 */
public final class ConfChanges {
  private static final Logger LOG = LoggerFactory.getLogger(ConfChanges.class);

  private final RaftClients clients;
  private final ConfReader confs;
  private final DivisionHosting hosting;
  private final LearnerWatch watch;
  private final MembershipSettings settings;
  /** Runs the hosting calls of a merged addition in parallel (blocking RPCs to joining nodes). */
  private final Executor hostingCalls;
  private final Map<RaftGroupId, ReentrantLock> groupLocks = new ConcurrentHashMap<>();
  private final Map<RaftGroupId, Queue<PendingAdd>> pendingAdds = new ConcurrentHashMap<>();

  public ConfChanges(RaftClients clients, ConfReader confs, DivisionHosting hosting, LearnerWatch watch,
                     MembershipSettings settings, Executor hostingCalls) {
    this.clients = clients;
    this.confs = confs;
    this.hosting = hosting;
    this.watch = watch;
    this.settings = settings;
    this.hostingCalls = hostingCalls;
  }

  /** Work a change does on the conf it read before its compare-and-set (hosting divisions). */
  @FunctionalInterface
  private interface Prepare {
    void run(Conf conf) throws IOException;
  }

  /**
   * Adds {@code learner} as a listener of the group: host the division first, then CAS.
   *
   * <p>Ratis takes one configuration change per group at a time, and each change is replicated
   * to and persisted by every member, so adding learners one change each costs O(n²) when n
   * nodes join at once. Additions to one group that arrive while a change of that group runs
   * here therefore wait, and the first of them to get the group makes one compare-and-set that
   * adds the oldest waiting ones (at most {@link MembershipSettings#maxLearnersPerChange()}),
   * until its own is made. Each caller still gets its own answer: a learner whose node cannot
   * host the group fails alone, and the others are added without it.
   */
  public Change addLearner(RaftGroupId groupId, RaftPeer learner, Collection<RaftPeer> candidates) throws IOException {
    PendingAdd mine = new PendingAdd(RaftPeer.newBuilder(learner).setStartupRole(RaftPeerRole.LISTENER).build(),
        candidates, new CompletableFuture<>());
    Queue<PendingAdd> queue = pendingAdds.computeIfAbsent(groupId, g -> new ConcurrentLinkedQueue<>());
    queue.add(mine);
    ReentrantLock lock;
    try {
      lock = lockGroup(groupId);
    } catch (IOException e) {
      if (queue.remove(mine)) {
        throw e;
      }
      // Another caller took it into the change it is making: that change answers for it.
      lock = null;
    }
    if (lock != null) {
      try {
        while (!mine.result().isDone()) {
          addBatch(groupId, drainPendingAdds(queue));
        }
      } finally {
        lock.unlock();
      }
    }
    try {
      return mine.result().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw e;
    }
  }

  /** An addition waiting for its group; completed by whichever caller makes the group's change. */
  private record PendingAdd(RaftPeer learner, Collection<RaftPeer> candidates, CompletableFuture<Change> result) {}

  private List<PendingAdd> drainPendingAdds(Queue<PendingAdd> queue) {
    List<PendingAdd> batch = new ArrayList<>();
    while (batch.size() < settings.maxLearnersPerChange()) {
      PendingAdd a = queue.poll();
      if (a == null) {
        break;
      }
      batch.add(a);
    }
    return batch;
  }

  /** Adds every learner of {@code batch} in one change (with the group's lock held). */
  private void addBatch(RaftGroupId groupId, List<PendingAdd> batch) {
    int group = ClusterIds.groupNumber(groupId);
    Collection<RaftPeer> candidates = List.of();
    for (PendingAdd a : batch) {
      candidates = union(candidates, a.candidates());
    }
    // Nodes that could not host the division: left out of the change, answered with the failure.
    Map<RaftPeerId, IOException> cannotHost = new ConcurrentHashMap<>();
    Set<RaftPeerId> absentAtStart = ConcurrentHashMap.newKeySet();
    String what = "add learner " + batch.stream().map(a -> a.learner().getId().toString())
        .collect(Collectors.joining(", "));
    Change change;
    try {
      change = change(groupId, candidates, what, conf -> {
        List<RaftPeer> hostable = new ArrayList<>();
        for (PendingAdd a : batch) {
          RaftPeerId id = a.learner().getId();
          if (!conf.isVoter(id) && !conf.isListener(id)) {
            absentAtStart.add(id);
          }
          if (!cannotHost.containsKey(id)) {
            hostable.add(a.learner());
          }
        }
        return ConfPlans.addLearners(hostable).on(conf);
      }, conf -> hostDivisions(groupId, conf, batch, cannotHost));
    } catch (IOException | RuntimeException e) {
      batch.forEach(a -> a.result().completeExceptionally(wrap(e)));
      return;
    }
    if (!cannotHost.isEmpty()) {
      LOG.warn("group {}: left out of the change, as they cannot host the group: {}", group, cannotHost.keySet());
    }
    for (PendingAdd a : batch) {
      RaftPeerId id = a.learner().getId();
      IOException failure = cannotHost.get(id);
      if (failure != null) {
        a.result().completeExceptionally(new MembershipException("group " + group + ": add learner " + id
            + ": the node cannot host the group: " + failure.getMessage(), true, failure));
      } else {
        a.result().complete(new Change(change.changed() && absentAtStart.contains(id), change.conf(),
            change.attempts()));
      }
    }
  }

  private static IOException wrap(Throwable e) {
    return e instanceof IOException io ? io : new IOException(e.getMessage(), e);
  }

  /**
   * Hosts the division on every node of {@code batch} that is not in {@code conf} yet, in
   * parallel, and records the nodes that cannot host it (down or unreachable).
   */
  private void hostDivisions(RaftGroupId groupId, Conf conf, List<PendingAdd> batch,
                             Map<RaftPeerId, IOException> cannotHost) {
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    for (PendingAdd a : batch) {
      RaftPeerId id = a.learner().getId();
      if (conf.isVoter(id) || conf.isListener(id) || cannotHost.containsKey(id)) {
        continue;
      }
      calls.add(CompletableFuture.runAsync(() -> {
        try {
          hosting.hostDivision(groupId, a.learner(), conf.voters());
        } catch (IOException e) {
          cannotHost.put(id, e);
        }
      }, hostingCalls));
    }
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
  }

  /**
   * Moves {@code learner} from the listeners into the voters, unless the group already has
   * {@code maxVoters} voters (then the node stays a learner, {@code changed=false}). The limit is
   * checked against the conf the compare-and-set replaces, so two promotions racing in one group
   * cannot both pass it. Returns once the promoted node itself acts as a voter (see
   * {@link LearnerWatch#awaitVoting}). Already a voter is success.
   *
   * @param maxVoters the most voters the group may have; 0 = no limit
   */
  public Change promote(RaftGroupId groupId, RaftPeerId learner, Collection<RaftPeer> candidates, int maxVoters)
      throws IOException {
    Change change = change(groupId, candidates, "promote " + learner, ConfPlans.promote(groupId, learner, maxVoters),
        null);
    RaftPeer promoted = change.conf().voters().stream().filter(p -> p.getId().equals(learner)).findFirst().orElse(null);
    if (promoted != null && !watch.awaitVoting(groupId, promoted)) {
      LOG.warn("group {}: {} was promoted but still does not act as a voter after {} ms",
          ClusterIds.groupNumber(groupId), learner, settings.promotedRoleWait().toMillis());
    }
    return change;
  }

  /**
   * Removes {@code node} from the group's listeners, decided inside the compare-and-set: a node
   * that is a voter by then is refused (not retryable) and nothing changes. Then drops its
   * division. Not being a member is success.
   */
  public Change removeLearner(RaftGroupId groupId, RaftPeer node, Collection<RaftPeer> candidates) throws IOException {
    Change change = change(groupId, candidates, "remove learner " + node.getId(),
        ConfPlans.removeLearner(groupId, node.getId()), null);
    dropAfterRemoval(groupId, node);
    return change;
  }

  /**
   * Removes {@code node} from whichever list holds it (a leave), then drops its division.
   * Refuses to remove the last voter. Not being a member is success.
   */
  public Change removeMember(RaftGroupId groupId, RaftPeer node, Collection<RaftPeer> candidates) throws IOException {
    Change change = change(groupId, candidates, "remove " + node.getId(),
        ConfPlans.removeMember(groupId, node.getId()), null);
    dropAfterRemoval(groupId, node);
    return change;
  }

  private void dropAfterRemoval(RaftGroupId groupId, RaftPeer node) {
    try {
      hosting.dropDivision(groupId, node);
    } catch (IOException e) {
      // The node is out of the conf; a division left on an unreachable node is inert and is
      // dropped by the next remove or host call.
      LOG.warn("{}: removed from group {} but its division could not be dropped: {}",
          node.getId(), ClusterIds.groupNumber(groupId), e.getMessage());
    }
  }

  private Change change(RaftGroupId groupId, Collection<RaftPeer> candidates, String what, ConfPlans.Plan plan,
                        Prepare prepare) throws IOException {
    ReentrantLock lock = lockGroup(groupId);
    long deadline = System.nanoTime() + settings.changeTimeout().toNanos();
    int group = ClusterIds.groupNumber(groupId);
    try {
      Collection<RaftPeer> known = candidates;
      ConfPlans.Target target = null;
      int attempts = 0;
      IOException lastError = null;
      long backoffMs = 25;
      while (true) {
        Conf conf;
        try {
          conf = confs.readConf(groupId, known);
        } catch (IOException e) {
          conf = null;
          lastError = e;
        }
        if (conf != null) {
          known = union(conf.voters(), known);
          if (target != null && target.heldBy(conf)) {
            return new Change(true, conf, attempts);
          }
          ConfPlans.Target next = decide(plan, conf, group);
          if (next == null) {
            return new Change(attempts > 0, conf, attempts);
          }
          if (!conf.changing() && prepare != null) {
            // Preparing may leave out what cannot be done (a node that cannot host the group).
            prepare.run(conf);
            next = decide(plan, conf, group);
            if (next == null) {
              return new Change(attempts > 0, conf, attempts);
            }
          }
          if (!conf.changing()) {
            ConfPlans.Target proposed = next;
            target = proposed;
            attempts++;
            try {
              Conf current = conf;
              RaftClientReply reply = RatisCalls.call(() -> clients.forGroup(groupId, current.voters()).admin()
                  .setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
                      .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                      .setServersInCurrentConf(current.voters())
                      .setListenersInCurrentConf(current.listeners())
                      .setServersInNewConf(proposed.voters())
                      .setListenersInNewConf(proposed.listeners())
                      .build()));
              if (reply.isSuccess()) {
                LOG.info("group {}: {} committed (attempt {})", group, what, attempts);
                return new Change(true, conf.withMembers(next.voters(), next.listeners()), attempts);
              }
              lastError = reply.getException() != null ? reply.getException()
                  : new IOException("setConfiguration was not successful");
            } catch (IOException e) {
              // SetConfigurationException after a leader change may hide a committed CAS;
              // the next iteration re-reads the conf and decides.
              lastError = e;
              LOG.info("group {}: {} attempt {} failed: {}", group, what, attempts, e.toString());
            }
          }
        }
        if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs) > deadline) {
          throw new MembershipException("group " + group + ": " + what + " did not complete within "
              + settings.changeTimeout().toMillis() + " ms" + (lastError == null ? "" : ": " + lastError.getMessage()),
              true, lastError);
        }
        try {
          Thread.sleep(backoffMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted changing group " + group);
        }
        backoffMs = Math.min(backoffMs * 2, 500);
      }
    } finally {
      lock.unlock();
    }
  }

  private static ConfPlans.Target decide(ConfPlans.Plan plan, Conf conf, int group) throws MembershipException {
    try {
      return plan.on(conf);
    } catch (IllegalStateException e) {
      throw new MembershipException("group " + group + ": " + e.getMessage(), false, e);
    }
  }

  /** Takes the group's change lock (reentrant), waiting at most the change timeout. */
  private ReentrantLock lockGroup(RaftGroupId groupId) throws IOException {
    ReentrantLock lock = groupLocks.computeIfAbsent(groupId, g -> new ReentrantLock());
    try {
      if (!lock.tryLock(settings.changeTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        throw new MembershipException("group " + ClusterIds.groupNumber(groupId) + ": another change is still running",
            true, null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for group " + ClusterIds.groupNumber(groupId));
    }
    return lock;
  }

  static Collection<RaftPeer> union(Collection<RaftPeer> a, Collection<RaftPeer> b) {
    Map<RaftPeerId, RaftPeer> m = new LinkedHashMap<>();
    a.forEach(p -> m.put(p.getId(), p));
    b.forEach(p -> m.putIfAbsent(p.getId(), p));
    return m.values();
  }
}
