package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.rpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.Batch;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.ChangeMembershipResponse;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.DropGroupRequest;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.HandshakeRequest;
import io.joinflow.proto.v1.HandshakeResponse;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.LearnerProgressRequest;
import io.joinflow.proto.v1.LearnerProgressResponse;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.PutJoinRecord;
import io.joinflow.proto.v1.RemoveNode;
import io.joinflow.proto.v1.SetNodeState;
import io.joinflow.proto.v1.SetRouting;
import io.joinflow.proto.v1.TopologyUpdate;
import io.joinflow.proto.v1.TopologyUpdateAck;
import io.joinflow.proto.v1.UpsertNode;
import io.joinflow.workflows.ClusterSnapshot;
import io.joinflow.workflows.JoinActivities;
import io.joinflow.workflows.JoinFailures;
import io.joinflow.workflows.JoinPhase;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link JoinActivities} over the cluster's NodeAdmin API. Every method reads the state it is
 * about to change first and treats a state that already holds as done; every group-0 change is
 * one {@link Batch}, so it is applied entirely or not at all. Failures are typed by
 * {@link NodeAdminFailures} only.
 */
public final class JoinActivitiesImpl implements JoinActivities {
  private static final Logger LOG = LoggerFactory.getLogger(JoinActivitiesImpl.class);
  /** The wire version this cluster speaks (NodeDB's JoinRequest.wire_version). */
  static final int WIRE_VERSION = 1;
  static final String OUTCOME_SUCCEEDED = "succeeded";
  /** How often persist re-publishes routing when a concurrent change moved a conf under it. */
  private static final int PERSIST_ROUNDS = 3;

  /** Heartbeats of running steps; one daemon thread is plenty for a heartbeat a second each. */
  private static final ScheduledExecutorService HEARTBEATS = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "join-step-heartbeats");
    t.setDaemon(true);
    return t;
  });

  private final NodeAdminPool pool;
  private final Clock clock;
  private final ActivitySettings settings;

  public JoinActivitiesImpl(NodeAdminPool pool) {
    this(pool, Clock.systemUTC(), ActivitySettings.defaults());
  }

  public JoinActivitiesImpl(NodeAdminPool pool, Clock clock) {
    this(pool, clock, ActivitySettings.defaults());
  }

  /**
   * @param pool channels to the cluster (and to joining nodes)
   * @param clock stamps join records; activities may read the wall clock, workflows may not
   * @param settings deadlines and poll intervals
   */
  public JoinActivitiesImpl(NodeAdminPool pool, Clock clock, ActivitySettings settings) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  // ---- 1. validate ----

  /**
   * Runs a step that changes the cluster while heartbeating every second from another thread.
   * Such a step blocks in one call for up to tens of seconds; with the heartbeat timeout the
   * workflow gives it, a worker that dies mid-step costs the join that timeout, not the step's
   * whole start-to-close timeout, before another worker runs it again (every step is
   * state-based, so running it again is safe).
   */
  private static <T> T keepAlive(Supplier<T> step) {
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    ScheduledFuture<?> beats = HEARTBEATS.scheduleAtFixedRate(() -> {
      try {
        ctx.heartbeat(null);
      } catch (RuntimeException e) {
        // Cancelled or closed: the step itself ends on its own; nothing to report from here.
      }
    }, 1, 1, TimeUnit.SECONDS);
    try {
      return step.get();
    } finally {
      beats.cancel(false);
    }
  }

  @Override
  public ValidateResult validate(ValidateInput input) {
    long nodeId = input.nodeId();
    String addr = checkAddress(nodeId, input.listenAddr());
    checkResolvable(addr);
    if (input.wireVersion() != WIRE_VERSION) {
      throw reject(Status.FAILED_PRECONDITION, "unsupported wire_version " + input.wireVersion()
          + "; this cluster speaks " + WIRE_VERSION);
    }
    ClusterView view = clusterView();
    checkCluster(view, input.clusterId());
    NodeRecord existing = findNode(view, nodeId);
    if (existing != null && !existing.getAddr().equals(addr)) {
      // NodeDB's text, kept verbatim: operators and scripts recognise it.
      throw reject(Status.ALREADY_EXISTS, "node_id " + Long.toUnsignedString(nodeId) + " already registered with different address "
          + existing.getAddr() + " (request: " + addr + ")");
    }
    for (NodeRecord other : view.getNodesList()) {
      if (other.getNodeId() != nodeId && other.getAddr().equals(addr)) {
        throw reject(Status.ALREADY_EXISTS, "listen_addr " + addr + " is already used by node "
            + Long.toUnsignedString(other.getNodeId()));
      }
    }
    HandshakeResponse hs;
    try {
      hs = handshake(nodeId, addr, view.getClusterId());
    } catch (ApplicationFailure unreachable) {
      if (!unfinishedJoinOf(existing, addr, unreachable)) {
        throw unreachable;
      }
      LOG.warn("node {}: not reachable at {} ({}), but an unfinished join admitted it; going on so this join"
          + " finishes or undoes it", nodeId, addr, unreachable.getOriginalMessage());
      return new ValidateResult(view.getClusterId(), view.getDataGroups(), false, snapshot(view));
    }
    if (hs.getWireVersion() != 0 && hs.getWireVersion() != WIRE_VERSION) {
      throw reject(Status.FAILED_PRECONDITION, "node " + Long.toUnsignedString(nodeId) + " at " + addr + " speaks wire_version "
          + hs.getWireVersion() + "; this cluster speaks " + WIRE_VERSION);
    }
    boolean alreadyJoined = false;
    if (existing != null) {
      if (!existing.getIncarnation().equals(hs.getIncarnation())) {
        checkReincarnation(view, existing, addr, hs.getIncarnation());
      } else if ((existing.getState() == NodeState.LEARNER || existing.getState() == NodeState.ACTIVE)
          && missingGroups(view, nodeId).isEmpty()) {
        alreadyJoined = true;
      }
    }
    LOG.info("node {}: validated {} for cluster {}{}", nodeId, addr, Long.toUnsignedString(view.getClusterId()),
        alreadyJoined ? " (already joined)" : "");
    return new ValidateResult(view.getClusterId(), view.getDataGroups(), alreadyJoined, snapshot(view));
  }

  /** The normalized address, or an INVALID_ARGUMENT rejection in NodeDB's words. */
  private static String checkAddress(long nodeId, String listenAddr) {
    if (nodeId == 0) {
      throw reject(Status.INVALID_ARGUMENT, "node_id must be non-zero");
    }
    HostPort hp;
    try {
      hp = HostPort.parse(listenAddr);
    } catch (IllegalArgumentException e) {
      throw reject(Status.INVALID_ARGUMENT, "invalid listen_addr '" + listenAddr + "': " + e.getMessage());
    }
    if (isWildcard(hp.host())) {
      throw reject(Status.INVALID_ARGUMENT, "invalid listen_addr '" + listenAddr + "': " + hp.host()
          + " means every interface, which other nodes cannot dial; give an address they can reach");
    }
    return hp.toString();
  }

  /**
   * The host of an address other nodes will dial must resolve, and not to the wildcard address
   * (a name or spelling such as {@code 0} can stand for it). Not resolving is taken as final:
   * a join that retries against a name nobody can dial would only hold its deadline.
   */
  static void checkResolvable(String addr) {
    HostPort hp = HostPort.parse(addr);
    InetAddress[] resolved;
    try {
      resolved = InetAddress.getAllByName(hp.host());
    } catch (UnknownHostException e) {
      throw reject(Status.INVALID_ARGUMENT, "invalid listen_addr '" + addr + "': host " + hp.host()
          + " cannot be resolved; give a host name or IP address the cluster's nodes can resolve");
    }
    for (InetAddress a : resolved) {
      if (a.isAnyLocalAddress()) {
        throw reject(Status.INVALID_ARGUMENT, "invalid listen_addr '" + addr + "': " + hp.host() + " is "
            + a.getHostAddress() + ", which means every interface and other nodes cannot dial;"
            + " give an address they can reach");
      }
    }
  }

  /**
   * W10: the node at the registered address answers with another incarnation, so it lost its
   * data dir since it joined. Its old self may still hold a vote (or a learner seat that never
   * catches up again); treating the newcomer as that node would give a vote back to an empty
   * log, a Raft safety hazard, and re-adding it cannot be done behind the operator's back
   * either: taking a vote away shrinks quorums and is the business of leave. So the join is
   * refused, unchanged, until the old node is gone: decommissioned and in no group.
   */
  static void checkReincarnation(ClusterView view, NodeRecord existing, String addr, String incarnation) {
    long nodeId = existing.getNodeId();
    String id = Long.toUnsignedString(nodeId);
    List<Integer> voterOf = new ArrayList<>();
    List<Integer> learnerOf = new ArrayList<>();
    for (GroupView g : view.getGroupsList()) {
      if (g.getVotersList().contains(nodeId)) {
        voterOf.add(g.getGroupId());
      } else if (g.getLearnersList().contains(nodeId)) {
        learnerOf.add(g.getGroupId());
      }
    }
    if (existing.getState() == NodeState.DECOMMISSIONED && voterOf.isEmpty() && learnerOf.isEmpty()) {
      LOG.info("node {}: decommissioned as incarnation {}; {} joins again as incarnation {}", id,
          existing.getIncarnation(), addr, incarnation);
      return;
    }
    requireLeaders(view, "cannot tell whether the old node " + id + " still holds a vote");
    String held = !voterOf.isEmpty()
        ? "is still a voter of group" + plural(voterOf) + join(voterOf)
            + "; giving that vote to a node with an empty log would risk the groups' committed data"
        : !learnerOf.isEmpty()
            ? "is still a learner of group" + plural(learnerOf) + join(learnerOf)
            : "is still " + existing.getState() + " in the topology";
    String remedy = existing.getState() == NodeState.JOINING
        ? "let the old node's join finish or compensate (see joinflow joins), decommission it with"
            + " joinflow leave " + id + " if it joined, then join again"
        : "remove the old node first with joinflow leave " + id + ", then join again";
    throw reject(Status.FAILED_PRECONDITION, "node " + id + " at " + addr + " lost its data: it joined as"
        + " incarnation " + existing.getIncarnation() + " but now answers as " + incarnation + ", and the old node "
        + held + "; " + remedy);
  }

  private static String plural(List<Integer> groups) {
    return groups.size() == 1 ? " " : "s ";
  }

  /** 0.0.0.0 and the IPv6 unspecified address in any of its spellings (::, 0:0:0:0:0:0:0:0). */
  static boolean isWildcard(String host) {
    if (host.equals("0.0.0.0")) {
      return true;
    }
    return host.contains(":") && host.chars().allMatch(c -> c == '0' || c == ':');
  }

  private static void checkCluster(ClusterView view, long clusterId) {
    if (view.getClusterId() == 0) {
      throw reject(Status.FAILED_PRECONDITION, "the cluster has no cluster id yet; bootstrap it before joining nodes");
    }
    if (view.getClusterId() != clusterId) {
      throw reject(Status.FAILED_PRECONDITION, "the join names cluster " + Long.toUnsignedString(clusterId)
          + " but the cluster this worker serves is " + Long.toUnsignedString(view.getClusterId())
          + " (answered by node " + view.getAnsweredBy() + ")");
    }
  }

  // ---- 2. registerPeer ----

  @Override
  public PeerInfo registerPeer(RegisterInput input) {
    return keepAlive(() -> registerPeerNow(input));
  }

  private PeerInfo registerPeerNow(RegisterInput input) {
    String addr = checkAddress(input.nodeId(), input.listenAddr());
    HandshakeResponse hs;
    try {
      hs = handshake(input.nodeId(), addr, input.clusterId());
    } catch (ApplicationFailure unreachable) {
      NodeRecord admitted = JoinFailures.UNAVAILABLE.equals(unreachable.getType())
          ? findNode(clusterView(), input.nodeId()) : null;
      if (!unfinishedJoinOf(admitted, addr, unreachable)) {
        throw unreachable;
      }
      LOG.warn("node {}: not reachable at {} ({}); keeping the peer an unfinished join registered (raft {},"
          + " incarnation {})", input.nodeId(), addr, unreachable.getOriginalMessage(), admitted.getRaftAddr(),
          admitted.getIncarnation());
      return new PeerInfo(admitted.getRaftAddr(), admitted.getIncarnation());
    }
    if (hs.getRaftAddr().isEmpty() || hs.getIncarnation().isEmpty()) {
      throw reject(Status.FAILED_PRECONDITION, "node " + Long.toUnsignedString(input.nodeId()) + " at " + addr
          + " did not report its raft address and incarnation; is it a joinflow node?");
    }
    if (!hs.getEmpty() && hs.getClusterId() == 0) {
      // Divisions left behind by an earlier join that was compensated; hosting ours again is safe.
      LOG.info("node {}: holds no cluster id but still hosts groups {}", input.nodeId(), hs.getHostedGroupsList());
    }
    LOG.info("node {}: peer at {} (raft {}, incarnation {}, {})", input.nodeId(), addr, hs.getRaftAddr(),
        hs.getIncarnation(), hs.getClusterId() == 0 ? "no cluster yet" : "already of this cluster");
    return new PeerInfo(hs.getRaftAddr(), hs.getIncarnation());
  }

  /**
   * True when {@code unreachable} (a failed handshake) is transient and the node is JOINING at
   * this address: a join admitted it and did not finish, typically because its workflow was
   * lost and a gateway started it again. Failing the first steps for good would then leave the
   * node JOINING and a learner of whatever groups it reached, because the join registers its
   * compensations in those steps; going on, the later steps either reach the node and finish the
   * join, or fail and undo it.
   */
  private static boolean unfinishedJoinOf(NodeRecord existing, String addr, ApplicationFailure unreachable) {
    return JoinFailures.UNAVAILABLE.equals(unreachable.getType()) && existing != null
        && existing.getAddr().equals(addr) && existing.getState() == NodeState.JOINING;
  }

  /**
   * Asks the joining node who it is. It must be the expected node and belong to no cluster or
   * to this one (W11: cluster ids are compared between peers).
   */
  private HandshakeResponse handshake(long nodeId, String addr, long clusterId) {
    HandshakeRequest request = HandshakeRequest.newBuilder().setExpectedNodeId(nodeId).setClusterId(clusterId).build();
    HandshakeResponse hs;
    try {
      hs = pool.callAt(addr, "handshake with node " + nodeId, stub -> stub.handshake(request));
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
        throw NodeAdminFailures.of(Status.UNAVAILABLE.withDescription("node " + Long.toUnsignedString(nodeId) + " is not reachable at "
            + addr + ": " + e.getStatus().getDescription() + "; is it running with --listen " + addr + "?").withCause(e));
      }
      throw NodeAdminFailures.of(e);
    }
    if (hs.getNodeId() != nodeId) {
      throw reject(Status.FAILED_PRECONDITION, "the node at " + addr + " is node " + Long.toUnsignedString(hs.getNodeId())
          + ", not " + Long.toUnsignedString(nodeId) + "; check the address");
    }
    if (hs.getClusterId() != 0 && hs.getClusterId() != clusterId) {
      throw reject(Status.FAILED_PRECONDITION, "node " + Long.toUnsignedString(nodeId) + " at " + addr + " belongs to cluster "
          + Long.toUnsignedString(hs.getClusterId()) + ", not " + Long.toUnsignedString(clusterId)
          + "; wipe its data dir to move it");
    }
    return hs;
  }

  // ---- 3. admit ----

  @Override
  public void admit(AdmitInput input) {
    keepAlive(() -> {
      admitNow(input);
      return null;
    });
  }

  private void admitNow(AdmitInput input) {
    long nodeId = input.nodeId();
    String addr = checkAddress(nodeId, input.listenAddr());
    ClusterView view = clusterView();
    NodeRecord existing = findNode(view, nodeId);
    Batch.Builder batch = Batch.newBuilder();
    boolean readmit = existing != null && (existing.getState() == NodeState.DECOMMISSIONED
        || !existing.getIncarnation().equals(input.incarnation()));
    if (existing == null || !existing.getAddr().equals(addr) || readmit) {
      // A different address is refused by group 0 itself, with NodeDB's message. A node that
      // left (validate let it through only when it is in no group any more) starts over as
      // JOINING with its current incarnation and raft address, or persist would never mark it
      // a learner and its record would name a data dir that no longer exists.
      batch.addCommands(MetadataCommand.newBuilder().setUpsertNode(UpsertNode.newBuilder().setNode(
          NodeRecord.newBuilder().setNodeId(nodeId).setAddr(addr).setRaftAddr(input.raftAddr())
              .setState(NodeState.JOINING).setIncarnation(input.incarnation())
              .setWireVersion(input.wireVersion()))));
    }
    batch.addCommands(joinRecord(nodeId, input.workflowId(), JoinPhase.ADMIT, ""));
    MetadataResult r = propose(batch);
    LOG.info("node {}: admitted as {} (topology version {})", Long.toUnsignedString(nodeId),
        existing == null || readmit ? NodeState.JOINING : existing.getState() + ", kept", r.getTopologyVersion());
  }

  // ---- 4. addLearner ----

  @Override
  public GroupStep addLearner(GroupInput input) {
    return keepAlive(() -> addLearnerNow(input));
  }

  private GroupStep addLearnerNow(GroupInput input) {
    ChangeMembershipResponse r = changeMembership(input, MembershipChange.ADD_LEARNER);
    LOG.info("node {}: learner of group {} ({})", input.nodeId(), input.groupId(),
        r.getChanged() ? "added" : "already a member");
    return new GroupStep(input.groupId(), r.getLeader(), List.copyOf(r.getVotersList()),
        List.copyOf(r.getLearnersList()), r.getChanged(), 0, 0);
  }

  private ChangeMembershipResponse changeMembership(GroupInput input, MembershipChange change) {
    ChangeMembershipRequest request = ChangeMembershipRequest.newBuilder().setGroupId(input.groupId())
        .setNodeId(input.nodeId()).setChange(change).build();
    return rpc(() -> pool.call(change + " node " + input.nodeId() + " in group " + input.groupId(),
        settings.membershipDeadline(), stub -> stub.changeMembership(request)));
  }

  // ---- 5. awaitLearner ----

  /**
   * Waits for the learner in calls the node answers once it caught up or after
   * {@link ActivitySettings#progressWait()}, and heartbeats between them, so a cancelled join or
   * a dead worker is noticed within a heartbeat timeout. A retried attempt keeps the target of
   * the attempt before it once that attempt heartbeated it: the target is the leader's commit
   * index when waiting began, not when the latest attempt began. Only the progress fields of the
   * returned step are set; membership comes from {@code addLearner}.
   */
  @Override
  public GroupStep awaitLearner(GroupInput input) {
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    long target = ctx.getHeartbeatDetails(GroupStep.class)
        .filter(d -> d.groupId() == input.groupId())
        .map(GroupStep::targetIndex)
        .orElse(0L);
    // The first call waits too: a worker that dies before the first heartbeat leaves its retry
    // a later target, which only asks for more.
    LearnerProgressResponse p = progress(input, target, settings.progressWait());
    target = p.getTargetIndex();
    while (!p.getCaughtUp()) {
      ctx.heartbeat(progressStep(input, holds(p), target));
      long started = System.nanoTime();
      p = progress(input, target, settings.progressWait());
      // A node that does not wait (or an answer that came early without catch-up) must not
      // turn this loop into a busy poll.
      long rest = settings.pollInterval().toMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      if (!p.getCaughtUp() && rest > 0) {
        try {
          Thread.sleep(rest);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw Activity.wrap(e);
        }
      }
    }
    LOG.info("node {}: caught up in group {} (holds {} of {})", input.nodeId(), input.groupId(), holds(p), target);
    return progressStep(input, holds(p), target);
  }

  private LearnerProgressResponse progress(GroupInput input, long target, Duration wait) {
    LearnerProgressRequest request = LearnerProgressRequest.newBuilder().setGroupId(input.groupId())
        .setNodeId(input.nodeId()).setTargetIndex(target).setWaitMillis((int) wait.toMillis()).build();
    LearnerProgressResponse p = rpc(() -> pool.call("learner progress of node " + input.nodeId() + " in group "
        + input.groupId(), pool.callDeadline().plus(wait), stub -> stub.learnerProgress(request)));
    if (!p.getInConf()) {
      // The workflow adds before it awaits: waiting for a learner that is not there never ends.
      throw reject(Status.FAILED_PRECONDITION, "node " + input.nodeId() + " is not a learner of group "
          + input.groupId());
    }
    return p;
  }

  /** The highest index the learner's log was seen to hold: applied, or matched in the leader's term. */
  private static long holds(LearnerProgressResponse p) {
    return Math.max(p.getAppliedIndex(), p.getMatchedIndex());
  }

  private static GroupStep progressStep(GroupInput input, long applied, long target) {
    return new GroupStep(input.groupId(), 0, List.of(), List.of(), false, applied, target);
  }

  // ---- 6. persist ----

  @Override
  public ClusterSnapshot persist(PersistInput input) {
    return keepAlive(() -> persistNow(input));
  }

  private ClusterSnapshot persistNow(PersistInput input) {
    long nodeId = input.nodeId();
    ClusterView view = clusterView();
    for (int round = 1; ; round++) {
      NodeRecord node = findNode(view, nodeId);
      if (node == null) {
        throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is not in the topology; admit it before persisting");
      }
      requireLeaders(view, "routing cannot be refreshed from live configurations");
      List<Integer> missing = missingGroups(view, nodeId);
      if (!missing.isEmpty()) {
        // Persisting now would publish a half-join as done (W1, W5).
        throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is not a voter or learner of group"
            + (missing.size() == 1 ? " " : "s ") + join(missing) + "; add it everywhere before persisting");
      }
      Batch.Builder batch = Batch.newBuilder();
      if (node.getState() == NodeState.JOINING) {
        batch.addCommands(MetadataCommand.newBuilder().setSetNodeState(
            SetNodeState.newBuilder().setNodeId(nodeId).setState(NodeState.LEARNER)));
      }
      for (GroupView g : view.getGroupsList()) {
        batch.addCommands(MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder().setRoute(
            GroupRoute.newBuilder().setGroupId(g.getGroupId()).addAllVoters(g.getVotersList())
                .addAllLearners(g.getLearnersList()).setLeaderHint(g.getLeader()))));
      }
      batch.addCommands(joinRecord(nodeId, input.workflowId(), JoinPhase.PERSIST, OUTCOME_SUCCEEDED));
      MetadataResult r = propose(batch);
      ClusterView after = clusterView();
      List<Integer> stale = staleRoutes(after);
      if (stale.isEmpty() || round == PERSIST_ROUNDS) {
        if (!stale.isEmpty()) {
          LOG.warn("node {}: routing of groups {} still differs from their configurations after {} rounds",
              nodeId, stale, round);
        }
        LOG.info("node {}: persisted as {} with routing of {} groups (topology version {})", nodeId,
            node.getState() == NodeState.JOINING ? NodeState.LEARNER : node.getState(), view.getGroupsCount(),
            r.getTopologyVersion());
        return snapshot(after);
      }
      // Another membership change committed between the read and the write; publish again.
      LOG.info("node {}: groups {} changed while persisting; publishing their routing again", nodeId, stale);
      view = after;
    }
  }

  /** Groups whose published routing differs from their live configuration. */
  static List<Integer> staleRoutes(ClusterView view) {
    List<Integer> stale = new ArrayList<>();
    for (GroupView g : view.getGroupsList()) {
      if (g.getLeader() == 0) {
        continue;
      }
      GroupRoute route = view.getRoutingList().stream().filter(r -> r.getGroupId() == g.getGroupId())
          .findFirst().orElse(null);
      if (route == null || !Set.copyOf(route.getVotersList()).equals(Set.copyOf(g.getVotersList()))
          || !Set.copyOf(route.getLearnersList()).equals(Set.copyOf(g.getLearnersList()))) {
        stale.add(g.getGroupId());
      }
    }
    return stale;
  }

  // ---- 7. broadcast ----

  @Override
  public BroadcastResult broadcast(BroadcastInput input) {
    return keepAlive(() -> broadcastNow(input));
  }

  private BroadcastResult broadcastNow(BroadcastInput input) {
    ClusterView view = clusterView();
    TopologyUpdate update = TopologyUpdate.newBuilder()
        .setClusterId(view.getClusterId())
        .setVersion(view.getTopologyVersion())
        .setState(MetadataState.newBuilder()
            .setClusterId(view.getClusterId())
            .setDataGroups(view.getDataGroups())
            .setTopologyVersion(view.getTopologyVersion())
            .addAllNodes(view.getNodesList())
            .addAllRouting(view.getRoutingList())
            .addAllJoins(view.getJoinsList()))
        .build();
    // Members of group 0 replicate topology themselves; everyone else learns it from pushes.
    Set<Long> metadataMembers = new HashSet<>();
    group(view, 0).ifPresent(g -> {
      metadataMembers.addAll(g.getVotersList());
      metadataMembers.addAll(g.getLearnersList());
    });
    Map<String, Long> targets = new LinkedHashMap<>();
    for (NodeRecord n : view.getNodesList()) {
      if (!metadataMembers.contains(n.getNodeId())) {
        targets.put(n.getAddr(), n.getNodeId());
      }
    }
    // The joining node is pushed to even when it is in group 0 or no longer in the topology
    // (after compensation): it must hear the outcome.
    try {
      targets.putIfAbsent(HostPort.parse(input.listenAddr()).toString(), input.nodeId());
    } catch (IllegalArgumentException e) {
      LOG.warn("node {}: not pushing topology to listen_addr '{}': {}", input.nodeId(), input.listenAddr(),
          e.getMessage());
    }
    List<Long> acked = new ArrayList<>();
    List<String> unreachable = new ArrayList<>();
    for (Map.Entry<String, Long> t : targets.entrySet()) {
      if (push(t.getKey(), t.getValue(), update)) {
        acked.add(t.getValue());
      } else {
        unreachable.add(t.getKey());
      }
    }
    LOG.info("node {}: topology version {} pushed to {} node(s), acked by {}, unreachable {}", input.nodeId(),
        update.getVersion(), targets.size(), acked, unreachable);
    return new BroadcastResult(update.getVersion(), acked, unreachable);
  }

  /** True when the node at {@code addr} holds this version (or a newer one) after the push. */
  private boolean push(String addr, long nodeId, TopologyUpdate update) {
    StatusRuntimeException last = null;
    for (int attempt = 1; attempt <= settings.pushAttempts(); attempt++) {
      try {
        TopologyUpdateAck ack = pool.callAt(addr, "topology update", settings.pushDeadline(),
            stub -> stub.applyTopologyUpdate(update));
        return ack.getVersion() >= update.getVersion();
      } catch (StatusRuntimeException e) {
        last = e;
        if (!NodeAdminFailures.retryable(e.getStatus().getCode())) {
          break;
        }
        if (attempt < settings.pushAttempts()) {
          try {
            Thread.sleep(100L * attempt);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw Activity.wrap(ie);
          }
        }
      }
    }
    LOG.warn("node {}: topology version {} not delivered to {}: {}", nodeId, update.getVersion(), addr,
        last == null ? "no answer" : last.getStatus());
    return false;
  }

  // ---- compensation ----

  /**
   * Removes the node from the group when it is a learner there; not being a member is done.
   * A voter is refused: a join only ever added a learner, and taking a vote away is the
   * business of leave/decommission, not of a join's compensation (e.g. a rejoin of a voter
   * that lost its disk, W10, must not silently shrink the group's quorum).
   */
  @Override
  public GroupStep removeLearner(GroupInput input) {
    return keepAlive(() -> removeLearnerNow(input));
  }

  private GroupStep removeLearnerNow(GroupInput input) {
    long nodeId = input.nodeId();
    int group = input.groupId();
    ClusterView view = clusterView();
    GroupView before = group(view, group).orElseThrow(() -> reject(Status.NOT_FOUND, "group " + group
        + " does not exist; groups are 0.." + view.getDataGroups()));
    if (before.getVotersList().contains(nodeId)) {
      requireLeaders(view, "cannot tell whether node " + nodeId + " is a voter of group " + group);
      throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is a voter of group " + group
          + "; a join's compensation removes learners only (remove a voter by decommissioning it)");
    }
    if (findNode(view, nodeId) == null) {
      return alreadyRemoved(nodeId, before);
    }
    GroupStep step;
    try {
      ChangeMembershipRequest request = ChangeMembershipRequest.newBuilder().setGroupId(group)
          .setNodeId(nodeId).setChange(MembershipChange.REMOVE_LEARNER).build();
      ChangeMembershipResponse r = pool.call("remove node " + nodeId + " from group " + group,
          settings.membershipDeadline(), stub -> stub.changeMembership(request));
      step = new GroupStep(group, r.getLeader(), List.copyOf(r.getVotersList()), List.copyOf(r.getLearnersList()),
          r.getChanged(), 0, 0);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw NodeAdminFailures.of(e);
      }
      // Evicted between the read and the call (a compensation running twice at once).
      ClusterView now = clusterView();
      if (findNode(now, nodeId) != null) {
        throw NodeAdminFailures.of(e);
      }
      return alreadyRemoved(nodeId, group(now, group).orElse(before));
    }
    // REMOVE drops the division itself; this also drops one left by an add whose CAS never
    // committed, which REMOVE (nothing to change) would not touch.
    DropGroupRequest drop = DropGroupRequest.newBuilder().setGroupId(group).setNodeId(nodeId).build();
    try {
      pool.call("drop group " + group + " on node " + nodeId, stub -> stub.dropGroup(drop));
    } catch (StatusRuntimeException e) {
      LOG.info("node {}: could not drop its division of group {} ({}); it is out of the configuration",
          nodeId, group, e.getStatus());
    }
    LOG.info("node {}: out of group {} ({})", nodeId, group, step.changed() ? "removed" : "was not a member");
    return step;
  }

  /**
   * The node is no longer in the topology (a compensation that ran before): the removal is
   * done, unless the group's configuration still lists it, which nobody can fix by address.
   */
  private static GroupStep alreadyRemoved(long nodeId, GroupView g) {
    if (g.getVotersList().contains(nodeId) || g.getLearnersList().contains(nodeId)) {
      throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is still in the configuration of group "
          + g.getGroupId() + " but no longer in the topology, so no node can address it; admit it again,"
          + " then remove it");
    }
    LOG.info("node {}: in neither the topology nor group {}; nothing to remove", nodeId, g.getGroupId());
    return new GroupStep(g.getGroupId(), g.getLeader(), List.copyOf(g.getVotersList()),
        List.copyOf(g.getLearnersList()), false, 0, 0);
  }

  @Override
  public void evict(EvictInput input) {
    keepAlive(() -> {
      evictNow(input);
      return null;
    });
  }

  private void evictNow(EvictInput input) {
    long nodeId = input.nodeId();
    if (nodeId == 0) {
      throw reject(Status.INVALID_ARGUMENT, "node_id must be non-zero");
    }
    ClusterView view = clusterView();
    List<Integer> still = new ArrayList<>(view.getGroupsCount());
    for (GroupView g : view.getGroupsList()) {
      if (g.getVotersList().contains(nodeId) || g.getLearnersList().contains(nodeId)) {
        still.add(g.getGroupId());
      }
    }
    if (!still.isEmpty()) {
      // Once out of the topology the node cannot be addressed for removal any more: evicting
      // now would leave it an orphan member of these groups (W7).
      requireLeaders(view, "cannot tell whether node " + nodeId + " is still a member");
      throw reject(Status.FAILED_PRECONDITION, "node " + nodeId + " is still a voter or learner of group"
          + (still.size() == 1 ? " " : "s ") + join(still) + "; remove it from them before evicting it");
    }
    String reason = input.reason() == null || input.reason().isBlank() ? "no reason given" : input.reason();
    Batch.Builder batch = Batch.newBuilder()
        .addCommands(MetadataCommand.newBuilder().setRemoveNode(RemoveNode.newBuilder().setNodeId(nodeId)))
        .addCommands(joinRecord(nodeId, input.workflowId(), JoinPhase.COMPENSATED, "compensated: " + reason));
    MetadataResult r = propose(batch);
    LOG.info("node {}: evicted from the topology (version {}): {}", nodeId, r.getTopologyVersion(), reason);
  }

  // ---- shared ----

  private ClusterView clusterView() {
    return rpc(pool::clusterView);
  }

  private MetadataResult propose(Batch.Builder batch) {
    return rpc(() -> pool.propose(batch));
  }

  private MetadataCommand.Builder joinRecord(long nodeId, String workflowId, String phase, String outcome) {
    return MetadataCommand.newBuilder().setPutJoinRecord(PutJoinRecord.newBuilder().setRecord(JoinRecord.newBuilder()
        .setNodeId(nodeId).setWorkflowId(workflowId == null ? "" : workflowId).setPhase(phase).setOutcome(outcome)
        .setUpdatedAtMillis(clock.millis())));
  }

  /**
   * A group without a reachable leader is reported from routing, which may be stale: deciding
   * membership from it would be a guess, so wait for a leader instead (retryable).
   */
  static void requireLeaders(ClusterView view, String consequence) {
    List<Integer> leaderless = view.getGroupsList().stream().filter(g -> g.getLeader() == 0)
        .map(GroupView::getGroupId).toList();
    if (!leaderless.isEmpty()) {
      throw NodeAdminFailures.of(Status.UNAVAILABLE.withDescription("group" + (leaderless.size() == 1 ? " " : "s ")
          + join(leaderless) + " answered without a leader; " + consequence));
    }
  }

  /** Groups 0..G of the view that do not list the node as voter or learner. */
  static List<Integer> missingGroups(ClusterView view, long nodeId) {
    List<Integer> missing = new ArrayList<>();
    for (int g = 0; g <= view.getDataGroups(); g++) {
      Optional<GroupView> gv = group(view, g);
      if (gv.isEmpty() || !(gv.get().getVotersList().contains(nodeId) || gv.get().getLearnersList().contains(nodeId))) {
        missing.add(g);
      }
    }
    return missing;
  }

  static Optional<GroupView> group(ClusterView view, int group) {
    return view.getGroupsList().stream().filter(g -> g.getGroupId() == group).findFirst();
  }

  static NodeRecord findNode(ClusterView view, long nodeId) {
    return view.getNodesList().stream().filter(n -> n.getNodeId() == nodeId).findFirst().orElse(null);
  }

  /** The cluster as the view shows it; a node's raft groups are those whose conf lists it. */
  static ClusterSnapshot snapshot(ClusterView view) {
    List<ClusterSnapshot.GroupInfo> groups = view.getGroupsList().stream()
        .map(g -> new ClusterSnapshot.GroupInfo(g.getGroupId(), g.getLeader(), List.copyOf(g.getVotersList()),
            List.copyOf(g.getLearnersList())))
        .toList();
    List<ClusterSnapshot.NodeInfo> nodes = view.getNodesList().stream()
        .map(n -> new ClusterSnapshot.NodeInfo(n.getNodeId(), n.getAddr(), n.getState().name(),
            groups.stream().filter(g -> g.voters().contains(n.getNodeId()) || g.learners().contains(n.getNodeId()))
                .map(ClusterSnapshot.GroupInfo::groupId).toList(),
            n.getWireVersion()))
        .toList();
    return new ClusterSnapshot(view.getClusterId(), view.getTopologyVersion(), view.getDataGroups(), nodes, groups);
  }

  static String join(List<Integer> groups) {
    return groups.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("");
  }

  static ApplicationFailure reject(Status status, String description) {
    return NodeAdminFailures.of(status.withDescription(description));
  }

}
