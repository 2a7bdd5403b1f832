package io.joinflow.node.membership;

import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.RaftClients;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only code that changes Ratis configurations. It follows RATIS.md's recipe: read the
 * current conf from the group's leader, host the division on the joining node first (voters +
 * itself as LISTENER), then compare-and-set the whole conf. Reaching a conf that already holds
 * the target is success, including after a leader change made a committed change look like a
 * {@code SetConfigurationException}. At most one change per group runs at a time on this node,
 * and learner additions that wait for it are merged into one change; a concurrent change
 * elsewhere makes the CAS fail and the loop re-reads. {@code Mode.ADD} is
 * never used (it drops other listeners in Ratis 3.3.0).
 */
public final class MembershipOps {
  private static final Logger LOG = LoggerFactory.getLogger(MembershipOps.class);

  private final RaftClients clients;
  private final Duration changeTimeout;
  private final Map<RaftGroupId, ReentrantLock> groupLocks = new ConcurrentHashMap<>();
  private final Map<RaftGroupId, Queue<PendingAdd>> pendingAdds = new ConcurrentHashMap<>();

  /**
   * The most learners one change adds. The leader commits the change only once every new
   * member answered within one election timeout and caught up, all at the same moment; on a
   * loaded machine a change adding fifteen fresh learners stayed in staging for 30 s, where
   * changes of a few each went through.
   */
  static final int MAX_LEARNERS_PER_CHANGE = 4;
  /** How often a wait on a node's own division (catch-up, role after promotion) asks it again. */
  public static final long PROGRESS_CHECK_MS = 20;
  /** How long a promotion waits for the promoted node to act as a voter (it takes one heartbeat). */
  static final Duration PROMOTED_ROLE_WAIT = Duration.ofSeconds(5);

  /** Hosting calls to joining nodes; blocking RPCs, so not the common pool (one thread on 2 cores). */
  private static final ExecutorService HOSTING = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "membership-hosting");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param changeTimeout how long one membership change may retry before it fails
   */
  public MembershipOps(RaftClients clients, Duration changeTimeout) {
    this.clients = clients;
    this.changeTimeout = changeTimeout;
  }

  /** A group's configuration as its leader sees it. */
  public record Conf(RaftPeer leader, List<RaftPeer> voters, List<RaftPeer> listeners,
                     boolean changing, long leaderCommitIndex, List<CommitInfoProto> commitInfos) {
    public boolean isVoter(RaftPeerId id) {
      return voters.stream().anyMatch(p -> p.getId().equals(id));
    }

    public boolean isListener(RaftPeerId id) {
      return listeners.stream().anyMatch(p -> p.getId().equals(id));
    }

    /** This conf after a committed change to {@code newVoters} and {@code newListeners}. */
    public Conf withMembers(List<RaftPeer> newVoters, List<RaftPeer> newListeners) {
      return new Conf(leader, List.copyOf(newVoters), List.copyOf(newListeners), false, leaderCommitIndex,
          commitInfos);
    }

    public List<Long> voterIds() {
      return voters.stream().map(p -> ClusterIds.nodeId(p.getId())).sorted().toList();
    }

    public List<Long> listenerIds() {
      return listeners.stream().map(p -> ClusterIds.nodeId(p.getId())).sorted().toList();
    }
  }

  /** The result of a membership change. */
  public record Change(boolean changed, Conf conf, int attempts) {}

  /** Thrown when a change cannot be made; the message says why. */
  public static final class MembershipException extends IOException {
    private static final long serialVersionUID = 1L;
    private final boolean retryable;

    public MembershipException(String message, boolean retryable, Throwable cause) {
      super(message, cause);
      this.retryable = retryable;
    }

    /** True when the same call may succeed later (no leader, a concurrent change, timeout). */
    public boolean retryable() {
      return retryable;
    }
  }

  @FunctionalInterface
  private interface RatisCall<T> {
    T run() throws IOException;
  }

  /**
   * Runs a Ratis client call. Its gRPC transport throws an unchecked (shaded) status exception
   * when a peer refuses the connection; that is an unreachable peer like any I/O failure.
   */
  private static <T> T call(RatisCall<T> c) throws IOException {
    try {
      return c.run();
    } catch (org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /**
   * Finds the leader of a group among {@code candidates} (any members) and reads its conf.
   *
   * @throws MembershipException (retryable) when no candidate knows a reachable leader
   */
  public Conf readConf(RaftGroupId groupId, Collection<RaftPeer> candidates) throws IOException {
    IOException last = null;
    Set<RaftPeer> toAsk = new LinkedHashSet<>(candidates);
    Set<RaftPeerId> asked = new java.util.HashSet<>();
    while (!toAsk.isEmpty()) {
      RaftPeer peer = toAsk.iterator().next();
      toAsk.remove(peer);
      if (!asked.add(peer.getId())) {
        continue;
      }
      GroupInfoReply info;
      try {
        info = groupInfo(groupId, peer);
      } catch (IOException e) {
        last = e;
        continue;
      }
      RoleInfoProto role = info.getRoleInfoProto();
      if (role.getRole() == RaftPeerRole.LEADER && info.getConf().isPresent()) {
        return toConf(peer, info);
      }
      if (role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()
          && !role.getFollowerInfo().getLeaderInfo().getId().getId().isEmpty()) {
        RaftPeer leader = ProtoUtils.toRaftPeer(role.getFollowerInfo().getLeaderInfo().getId());
        if (!asked.contains(leader.getId()) && !leader.getAddress().isEmpty()) {
          LinkedHashSet<RaftPeer> next = new LinkedHashSet<>();
          next.add(leader);
          next.addAll(toAsk);
          toAsk = next;
        }
      }
    }
    throw new MembershipException("no reachable leader for group " + ClusterIds.groupNumber(groupId)
        + (last == null ? "" : ": " + last.getMessage()), true, last);
  }

  private static Conf toConf(RaftPeer leader, GroupInfoReply info) {
    RaftConfigurationProto c = info.getConf().orElseThrow();
    long commit = info.getCommitInfos().stream()
        .filter(ci -> ProtoUtils.toRaftPeer(ci.getServer()).getId().equals(leader.getId()))
        .mapToLong(CommitInfoProto::getCommitIndex).findFirst().orElse(0);
    return new Conf(leader, ProtoUtils.toRaftPeers(c.getPeersList()),
        ProtoUtils.toRaftPeers(c.getListenersList()),
        c.getOldPeersCount() > 0 || c.getOldListenersCount() > 0, commit,
        List.copyOf(info.getCommitInfos()));
  }

  /**
   * Makes {@code target} host a division of the group with {@code voters} as peers and itself
   * as LISTENER (never an empty peer list: RATIS.md). Hosting it already is success.
   *
   * @return false when the division already existed
   */
  public boolean hostDivision(RaftGroupId groupId, RaftPeer target, List<RaftPeer> voters) throws IOException {
    List<RaftPeer> peers = new ArrayList<>();
    for (RaftPeer v : voters) {
      if (!v.getId().equals(target.getId())) {
        peers.add(RaftPeer.newBuilder(v).setStartupRole(RaftPeerRole.FOLLOWER).build());
      }
    }
    peers.add(RaftPeer.newBuilder(target).setStartupRole(RaftPeerRole.LISTENER).build());
    try {
      call(() -> clients.forPeer(groupId, target).getGroupManagementApi(target.getId()).add(RaftGroup.valueOf(groupId, peers)));
      return true;
    } catch (AlreadyExistsException e) {
      return false;
    }
  }

  /**
   * Creates a group's division on {@code target} with every peer of {@code voters} as a voter
   * (bootstraps). An existing division is success.
   *
   * @return false when the division already existed
   */
  public boolean createGroup(RaftGroupId groupId, RaftPeer target, List<RaftPeer> voters) throws IOException {
    try {
      call(() -> clients.forPeer(groupId, target).getGroupManagementApi(target.getId()).add(RaftGroup.valueOf(groupId, voters)));
      return true;
    } catch (AlreadyExistsException e) {
      return false;
    }
  }

  /**
   * Removes the group's division from {@code target} and deletes its storage.
   *
   * @return false when it hosted no such division
   */
  public boolean dropDivision(RaftGroupId groupId, RaftPeer target) throws IOException {
    try {
      call(() -> clients.forPeer(groupId, target).getGroupManagementApi(target.getId()).remove(groupId, true, false));
      return true;
    } catch (GroupMismatchException e) {
      return false;
    } catch (IOException e) {
      if (e.getCause() instanceof GroupMismatchException
          || String.valueOf(e.getMessage()).contains("not found")) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Adds {@code learner} as a listener of the group: host the division first, then CAS.
   *
   * <p>Ratis takes one configuration change per group at a time, and each change is replicated
   * to and persisted by every member, so adding learners one change each costs O(n²) when n
   * nodes join at once. Additions to one group that arrive while a change of that group runs
   * here therefore wait, and the first of them to get the group makes one compare-and-set that
   * adds the oldest waiting ones (at most {@link #MAX_LEARNERS_PER_CHANGE}), until its own is
   * made. Each caller still gets its own answer: a learner whose node cannot host the group
   * fails alone, and the others are added without it.
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

  /** The oldest waiting additions, at most {@link #MAX_LEARNERS_PER_CHANGE}. */
  private static List<PendingAdd> drainPendingAdds(Queue<PendingAdd> queue) {
    List<PendingAdd> batch = new ArrayList<>();
    while (batch.size() < MAX_LEARNERS_PER_CHANGE) {
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
    Set<RaftPeerId> absentAtStart = new java.util.HashSet<>();
    String what = "add learner " + batch.stream().map(a -> a.learner().getId().toString())
        .collect(java.util.stream.Collectors.joining(", "));
    Change change;
    try {
      change = change(groupId, candidates, what, conf -> {
        List<RaftPeer> listeners = new ArrayList<>(conf.listeners());
        for (PendingAdd a : batch) {
          RaftPeerId id = a.learner().getId();
          if (!conf.isVoter(id) && !conf.isListener(id)) {
            absentAtStart.add(id);
            if (!cannotHost.containsKey(id)) {
              listeners.add(a.learner());
            }
          }
        }
        return listeners.size() == conf.listeners().size() ? null : new Target(conf.voters(), listeners);
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
    List<CompletableFuture<Void>> hosting = new ArrayList<>();
    for (PendingAdd a : batch) {
      RaftPeerId id = a.learner().getId();
      if (conf.isVoter(id) || conf.isListener(id) || cannotHost.containsKey(id)) {
        continue;
      }
      hosting.add(CompletableFuture.runAsync(() -> {
        try {
          hostDivision(groupId, a.learner(), conf.voters());
        } catch (IOException e) {
          cannotHost.put(id, e);
        }
      }, HOSTING));
    }
    CompletableFuture.allOf(hosting.toArray(CompletableFuture[]::new)).join();
  }

  /** Moves {@code learner} from the listeners into the voters. Already a voter is success. */
  public Change promote(RaftGroupId groupId, RaftPeerId learner, Collection<RaftPeer> candidates) throws IOException {
    return promote(groupId, learner, candidates, 0);
  }

  /**
   * Like {@link #promote(RaftGroupId, RaftPeerId, Collection)}, but leaves the conf unchanged
   * (the node stays a learner, {@code changed=false}) when the group already has
   * {@code maxVoters} voters. The limit is checked against the conf the compare-and-set
   * replaces, so two promotions racing in one group cannot both pass it.
   *
   * @param maxVoters the most voters the group may have; 0 = no limit
   */
  public Change promote(RaftGroupId groupId, RaftPeerId learner, Collection<RaftPeer> candidates, int maxVoters)
      throws IOException {
    Change change = change(groupId, candidates, "promote " + learner, conf -> {
      if (conf.isVoter(learner)) {
        return null;
      }
      if (maxVoters > 0 && conf.voters().size() >= maxVoters && conf.isListener(learner)) {
        return null;
      }
      RaftPeer peer = conf.listeners().stream().filter(p -> p.getId().equals(learner)).findFirst()
          .orElseThrow(() -> new IllegalStateException(learner + " is not a learner of group "
              + ClusterIds.groupNumber(groupId) + "; add it as a learner first"));
      List<RaftPeer> voters = new ArrayList<>(conf.voters());
      voters.add(RaftPeer.newBuilder(peer).setStartupRole(RaftPeerRole.FOLLOWER).build());
      List<RaftPeer> listeners = new ArrayList<>(conf.listeners());
      listeners.removeIf(p -> p.getId().equals(learner));
      return new Target(voters, listeners);
    }, null);
    change.conf().voters().stream().filter(p -> p.getId().equals(learner)).findFirst()
        .ifPresent(peer -> awaitVoting(groupId, peer));
    return change;
  }

  /**
   * Waits (at most {@link #PROMOTED_ROLE_WAIT}) until a promoted node's own division acts as a
   * voter. The leader commits a promotion once a majority of the new voters holds it, which need
   * not include the promoted node; until that node learns the new configuration is stable it
   * stays a Ratis listener, and a listener asked for its vote fails the request. Were the leader
   * to die in that window, a group of three voters would have one that can vote left and elect
   * no one until the old leader returns (seen: group 0 killed 140 ms after a promotion).
   */
  private void awaitVoting(RaftGroupId groupId, RaftPeer peer) {
    long deadline = System.nanoTime() + PROMOTED_ROLE_WAIT.toNanos();
    while (true) {
      try {
        RaftPeerRole role = groupInfo(groupId, peer).getRoleInfoProto().getRole();
        if (role == RaftPeerRole.FOLLOWER || role == RaftPeerRole.LEADER || role == RaftPeerRole.CANDIDATE) {
          return;
        }
      } catch (IOException | RuntimeException e) {
        // Unreachable, or mid-change (see readConf); ask again until the deadline.
      }
      if (System.nanoTime() > deadline) {
        LOG.warn("group {}: {} was promoted but still does not act as a voter after {} ms",
            ClusterIds.groupNumber(groupId), peer.getId(), PROMOTED_ROLE_WAIT.toMillis());
        return;
      }
      try {
        Thread.sleep(PROGRESS_CHECK_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Removes {@code node} from whichever list holds it, then drops its division. Refuses to
   * remove the last voter.
   */
  public Change remove(RaftGroupId groupId, RaftPeer node, Collection<RaftPeer> candidates) throws IOException {
    RaftPeerId id = node.getId();
    Change change = change(groupId, candidates, "remove " + id, conf -> {
      if (!conf.isVoter(id) && !conf.isListener(id)) {
        return null;
      }
      List<RaftPeer> voters = new ArrayList<>(conf.voters());
      voters.removeIf(p -> p.getId().equals(id));
      if (voters.isEmpty()) {
        throw new IllegalStateException(id + " is the last voter of group "
            + ClusterIds.groupNumber(groupId) + "; a group cannot lose its last voter");
      }
      List<RaftPeer> listeners = new ArrayList<>(conf.listeners());
      listeners.removeIf(p -> p.getId().equals(id));
      return new Target(voters, listeners);
    }, null);
    try {
      dropDivision(groupId, node);
    } catch (IOException e) {
      // The node is out of the conf; a division left on an unreachable node is inert and is
      // dropped by the next remove or host call.
      LOG.warn("{}: removed from group {} but its division could not be dropped: {}",
          id, ClusterIds.groupNumber(groupId), e.getMessage());
    }
    return change;
  }

  private record Target(List<RaftPeer> voters, List<RaftPeer> listeners) {
    boolean heldBy(Conf conf) {
      return ids(voters).equals(ids(conf.voters())) && ids(listeners).equals(ids(conf.listeners()));
    }

    private static Set<RaftPeerId> ids(List<RaftPeer> peers) {
      Set<RaftPeerId> s = new java.util.HashSet<>();
      peers.forEach(p -> s.add(p.getId()));
      return s;
    }
  }

  @FunctionalInterface
  private interface Prepare {
    void run(Conf conf) throws IOException;
  }

  private Change change(RaftGroupId groupId, Collection<RaftPeer> candidates, String what,
                        java.util.function.Function<Conf, Target> plan, Prepare prepare) throws IOException {
    ReentrantLock lock = lockGroup(groupId);
    long deadline = System.nanoTime() + changeTimeout.toNanos();
    int group = ClusterIds.groupNumber(groupId);
    try {
      Collection<RaftPeer> known = candidates;
      Target target = null;
      int attempts = 0;
      IOException lastError = null;
      long backoffMs = 25;
      while (true) {
        Conf conf;
        try {
          conf = readConf(groupId, known);
        } catch (IOException e) {
          conf = null;
          lastError = e;
        }
        if (conf != null) {
          known = union(conf.voters(), known);
          if (target != null && target.heldBy(conf)) {
            return new Change(true, conf, attempts);
          }
          Target next;
          try {
            next = plan.apply(conf);
          } catch (IllegalStateException e) {
            throw new MembershipException("group " + group + ": " + e.getMessage(), false, e);
          }
          if (next == null) {
            return new Change(attempts > 0, conf, attempts);
          }
          if (!conf.changing() && prepare != null) {
            // Preparing may leave out what cannot be done (a node that cannot host the group).
            prepare.run(conf);
            next = plan.apply(conf);
            if (next == null) {
              return new Change(attempts > 0, conf, attempts);
            }
          }
          if (!conf.changing()) {
            Target proposed = next;
            target = proposed;
            attempts++;
            try {
              Conf current = conf;
              RaftClientReply reply = call(() -> clients.forGroup(groupId, current.voters()).admin().setConfiguration(
                  SetConfigurationRequest.Arguments.newBuilder()
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
              + changeTimeout.toMillis() + " ms" + (lastError == null ? "" : ": " + lastError.getMessage()),
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

  /** Takes the group's change lock (reentrant), waiting at most the change timeout. */
  private ReentrantLock lockGroup(RaftGroupId groupId) throws IOException {
    ReentrantLock lock = groupLocks.computeIfAbsent(groupId, g -> new ReentrantLock());
    try {
      if (!lock.tryLock(changeTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new MembershipException("group " + ClusterIds.groupNumber(groupId) + ": another change is still running",
            true, null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for group " + ClusterIds.groupNumber(groupId));
    }
    return lock;
  }

  private static Collection<RaftPeer> union(Collection<RaftPeer> a, Collection<RaftPeer> b) {
    Map<RaftPeerId, RaftPeer> m = new java.util.LinkedHashMap<>();
    a.forEach(p -> m.put(p.getId(), p));
    b.forEach(p -> m.putIfAbsent(p.getId(), p));
    return m.values();
  }

  /** A learner's progress against a target index (0 = the leader's commit index now). */
  public record Progress(boolean inConf, boolean learner, boolean voter, long applied, long target) {
    public boolean caughtUp() {
      return inConf && applied >= target;
    }
  }

  public Progress learnerProgress(RaftGroupId groupId, RaftPeer node, Collection<RaftPeer> candidates,
                                  long targetIndex) throws IOException {
    return watchProgress(groupId, node, candidates, targetIndex).progress();
  }

  /**
   * A learner's progress and where to ask it again. A caller that waits for catch-up reads the
   * configuration and the target once and then asks only the learner, with
   * {@link #appliedIndex}.
   *
   * @param progress the progress now
   * @param learner the peer to ask for its applied index (null when it is in no configuration)
   */
  public record ProgressWatch(Progress progress, RaftPeer learner) {
    /** The same watch with the learner's newer applied index. */
    public ProgressWatch applied(long applied) {
      Progress p = progress;
      return new ProgressWatch(new Progress(p.inConf(), p.learner(), p.voter(), applied, p.target()), learner);
    }
  }

  public ProgressWatch watchProgress(RaftGroupId groupId, RaftPeer node, Collection<RaftPeer> candidates,
                                     long targetIndex) throws IOException {
    Conf conf = readConf(groupId, candidates);
    boolean learner = conf.isListener(node.getId());
    boolean voter = conf.isVoter(node.getId());
    long target = targetIndex > 0 ? targetIndex : conf.leaderCommitIndex();
    if (!learner && !voter) {
      return new ProgressWatch(new Progress(false, false, false, 0, target), null);
    }
    RaftPeer addressed = Objects.requireNonNullElse(
        conf.listeners().stream().filter(p -> p.getId().equals(node.getId())).findFirst()
            .orElse(conf.voters().stream().filter(p -> p.getId().equals(node.getId())).findFirst().orElse(null)),
        node);
    return new ProgressWatch(new Progress(true, learner, voter, appliedIndex(groupId, addressed), target), addressed);
  }

  /** The index {@code peer}'s division of the group has applied, asked of the peer itself. */
  public long appliedIndex(RaftGroupId groupId, RaftPeer peer) throws IOException {
    return groupInfo(groupId, peer).getLogInfoProto().getApplied().getIndex();
  }

  /** What {@code peer}'s own division of the group reports about itself. */
  private GroupInfoReply groupInfo(RaftGroupId groupId, RaftPeer peer) throws IOException {
    return call(() -> clients.forPeer(groupId, peer).getGroupManagementApi(peer.getId()).info(groupId));
  }

  /** Waits until {@code node} applied the leader's commit index taken when waiting began. */
  public Progress awaitCaughtUp(RaftGroupId groupId, RaftPeer node, Collection<RaftPeer> candidates,
                                Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Progress p = learnerProgress(groupId, node, candidates, 0);
    long target = p.target();
    while (!p.caughtUp()) {
      if (System.nanoTime() > deadline) {
        throw new MembershipException("group " + ClusterIds.groupNumber(groupId) + ": " + node.getId()
            + " applied " + p.applied() + " of " + target + " within " + timeout.toMillis() + " ms", true, null);
      }
      try {
        Thread.sleep(PROGRESS_CHECK_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException();
      }
      p = learnerProgress(groupId, node, candidates, target);
    }
    return p;
  }

  /**
   * Moves a group's leadership away from {@code node} to another voter, preferring the voter
   * whose commit index is highest. A group {@code node} does not lead is left as it is.
   *
   * @return the leader afterwards, or null when {@code node} did not lead the group
   * @throws MembershipException (not retryable) when no other voter exists
   */
  public RaftPeerId transferLeadershipAway(RaftGroupId groupId, RaftPeerId node, Collection<RaftPeer> candidates,
                                           Duration timeout) throws IOException {
    Conf conf = readConf(groupId, candidates);
    if (!conf.leader().getId().equals(node)) {
      return null;
    }
    Map<RaftPeerId, Long> commit = new java.util.HashMap<>();
    for (CommitInfoProto ci : conf.commitInfos()) {
      commit.put(ProtoUtils.toRaftPeer(ci.getServer()).getId(), ci.getCommitIndex());
    }
    RaftPeer next = conf.voters().stream().filter(p -> !p.getId().equals(node))
        .max(java.util.Comparator.comparingLong(p -> commit.getOrDefault(p.getId(), 0L)))
        .orElseThrow(() -> new MembershipException("group " + ClusterIds.groupNumber(groupId) + ": " + node
            + " is its only voter; no other voter can take over its leadership", false, null));
    RaftClientReply reply = call(() -> clients.forGroup(groupId, conf.voters()).admin()
        .transferLeadership(next.getId(), timeout.toMillis()));
    if (!reply.isSuccess()) {
      throw new MembershipException("group " + ClusterIds.groupNumber(groupId) + ": moving leadership from "
          + node + " to " + next.getId() + " failed: " + reply.getException(), true, reply.getException());
    }
    return next.getId();
  }
}
