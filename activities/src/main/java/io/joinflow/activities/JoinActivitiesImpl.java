package io.joinflow.activities;

import static io.joinflow.activities.Heartbeats.keepAlive;
import static io.joinflow.activities.NodeAdminFailures.reject;
import static io.joinflow.activities.NodeAdminFailures.rpc;

import io.grpc.Status;
import io.joinflow.proto.v1.AdmitNode;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.ChangeMembershipResponse;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.EvictNode;
import io.joinflow.proto.v1.JoinStep;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.SetMember;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.workflows.ClusterSnapshot;
import io.joinflow.workflows.JoinActivities;
import io.joinflow.workflows.JoinPhase;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link JoinActivities} over the cluster's NodeAdmin API. Every method reads the state it is
 * about to change first and treats a state that already holds as done; every group-0 change is
 * a typed {@link TopologyChange} the node checks and writes as one batch, applied entirely or
 * not at all. Failures are typed by
 * {@link NodeAdminFailures} only. {@code prepare} and {@code finish} run the steps they stand for
 * one after the other, announcing each as a {@link StepParts part}. The steps with a job of their own live in their own classes
 * ({@link JoinValidation}, {@link PeerHandshake}, {@link LearnerCatchUp},
 * {@link TopologyBroadcast}, {@link LearnerRemoval}); the group-0 steps are here.
 */
public final class JoinActivitiesImpl implements JoinActivities {
  private static final Logger LOG = LoggerFactory.getLogger(JoinActivitiesImpl.class);
  /** How often persist re-publishes routing when a concurrent change moved a conf under it. */
  private static final int PERSIST_ROUNDS = 3;

  private final NodeAdminPool pool;
  private final ActivitySettings settings;
  private final ClusterReads reads;
  private final JoinValidation validation;
  private final PeerHandshake peers;
  private final LearnerCatchUp catchUp;
  private final TopologyBroadcast broadcast;
  private final LearnerRemoval removal;

  public JoinActivitiesImpl(NodeAdminPool pool) {
    this(pool, ActivitySettings.defaults());
  }

  /**
   * @param pool channels to the cluster (and to joining nodes)
   * @param settings deadlines and poll intervals
   */
  public JoinActivitiesImpl(NodeAdminPool pool, ActivitySettings settings) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.reads = new ClusterReads(pool);
    this.peers = new PeerHandshake(pool, reads);
    this.validation = new JoinValidation(reads, peers);
    this.catchUp = new LearnerCatchUp(pool, settings);
    this.broadcast = new TopologyBroadcast(pool, reads, settings);
    this.removal = new LearnerRemoval(pool, reads, settings);
  }

  @Override
  public ValidateResult validate(ValidateInput input) {
    return validation.validate(input);
  }

  @Override
  public PeerInfo registerPeer(RegisterInput input) {
    return keepAlive(() -> peers.register(input));
  }

  @Override
  public void admit(AdmitInput input) {
    keepAlive(() -> admitNow(input));
  }

  private void admitNow(AdmitInput input) {
    long nodeId = input.nodeId();
    // The node decides whether to (re)write the node's record: group 0 refuses a different
    // address with NodeDB's message, and a node that left starts over as JOINING.
    MetadataResult r = reads.change(TopologyChange.newBuilder().setAdmit(AdmitNode.newBuilder().setNodeId(nodeId)
        .setAddr(ListenAddresses.canonical(nodeId, input.listenAddr())).setRaftAddr(input.raftAddr())
        .setIncarnation(input.incarnation()).setWireVersion(input.wireVersion())
        .setWorkflowId(input.workflowId() == null ? "" : input.workflowId())).build());
    LOG.info("node {}: admitted (topology version {})", Long.toUnsignedString(nodeId), r.getTopologyVersion());
  }

  @Override
  public PrepareResult prepare(PrepareInput input) {
    return keepAlive(() -> {
      StepParts.begin(JoinPhase.VALIDATE);
      ValidateResult validated = validation.validate(new ValidateInput(input.nodeId(), input.listenAddr(),
          input.wireVersion(), input.clusterId()));
      if (validated.alreadyJoined()) {
        return new PrepareResult(validated.clusterId(), validated.dataGroups(), true, validated.current(), null);
      }
      StepParts.begin(JoinPhase.REGISTER_PEER);
      PeerInfo peer = peers.register(new RegisterInput(input.nodeId(), input.listenAddr(), input.clusterId()));
      StepParts.begin(JoinPhase.ADMIT);
      admitNow(new AdmitInput(input.nodeId(), input.listenAddr(), peer.raftAddr(), peer.incarnation(),
          input.wireVersion(), input.workflowId()));
      return new PrepareResult(validated.clusterId(), validated.dataGroups(), false, validated.current(), peer);
    });
  }

  @Override
  public GroupStep addLearner(GroupInput input) {
    return keepAlive(() -> addLearnerNow(input));
  }

  private GroupStep addLearnerNow(GroupInput input) {
    ChangeMembershipRequest request = ChangeMembershipRequest.newBuilder().setGroupId(input.groupId())
        .setNodeId(input.nodeId()).setChange(MembershipChange.ADD_LEARNER).build();
    ChangeMembershipResponse r = rpc(() -> pool.call(MembershipChange.ADD_LEARNER + " node " + input.nodeId()
        + " in group " + input.groupId(), settings.membershipDeadline(), stub -> stub.changeMembership(request)));
    LOG.info("node {}: learner of group {} ({})", input.nodeId(), input.groupId(),
        r.getChanged() ? "added" : "already a member");
    return new GroupStep(input.groupId(), r.getLeader(), List.copyOf(r.getVotersList()),
        List.copyOf(r.getLearnersList()), r.getChanged(), 0, 0);
  }

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
    return catchUp.await(input);
  }

  @Override
  public ClusterSnapshot persist(PersistInput input) {
    return keepAlive(() -> persistNow(input));
  }

  private ClusterSnapshot persistNow(PersistInput input) {
    long nodeId = input.nodeId();
    // The node refuses a node the topology lacks or one that is not yet in every group (a
    // half-join published as done, W1, W5), and publishes the live configurations as routing.
    TopologyChange persist = TopologyChange.newBuilder().setSetMember(SetMember.newBuilder().setNodeId(nodeId)
        .setState(NodeState.LEARNER).addFrom(NodeState.JOINING)
        .setPersist(joinStep(input.workflowId()))).build();
    for (int round = 1; ; round++) {
      MetadataResult r = reads.change(persist);
      ClusterView after = reads.view();
      List<Integer> stale = ClusterViews.staleRoutes(after);
      if (stale.isEmpty() || round == PERSIST_ROUNDS) {
        if (!stale.isEmpty()) {
          LOG.warn("node {}: routing of groups {} still differs from their configurations after {} rounds",
              nodeId, stale, round);
        }
        NodeRecord node = ClusterViews.findNode(after.getNodesList(), nodeId);
        LOG.info("node {}: persisted as {} with routing of {} groups (topology version {})", nodeId,
            node == null ? "?" : node.getState(), after.getGroupsCount(), r.getTopologyVersion());
        return ClusterViews.snapshot(after);
      }
      // Another membership change committed between the node's read and its write; publish again.
      LOG.info("node {}: groups {} changed while persisting; publishing their routing again", nodeId, stale);
    }
  }

  @Override
  public BroadcastResult broadcast(BroadcastInput input) {
    return keepAlive(() -> broadcast.broadcast(input));
  }

  @Override
  public FinishResult finish(FinishInput input) {
    return keepAlive(() -> {
      StepParts.begin(JoinPhase.PERSIST);
      ClusterSnapshot persisted = persistNow(new PersistInput(input.nodeId(), input.workflowId()));
      StepParts.begin(JoinPhase.BROADCAST);
      BroadcastResult delivered = broadcast.broadcast(new BroadcastInput(input.nodeId(), input.listenAddr()));
      return new FinishResult(persisted, delivered);
    });
  }

  /**
   * Removes the node from the group when it is a learner there; not being a member is done.
   * A voter is refused: a join only ever added a learner, and taking a vote away is the
   * business of leave/decommission, not of a join's compensation (e.g. a rejoin of a voter
   * that lost its disk, W10, must not silently shrink the group's quorum).
   */
  @Override
  public GroupStep removeLearner(GroupInput input) {
    return keepAlive(() -> removal.remove(input));
  }

  @Override
  public void evict(EvictInput input) {
    keepAlive(() -> evictNow(input));
  }

  private static JoinStep joinStep(String workflowId) {
    return JoinStep.newBuilder().setWorkflowId(workflowId == null ? "" : workflowId).build();
  }

  private void evictNow(EvictInput input) {
    long nodeId = input.nodeId();
    ClusterViews.requireNodeId(nodeId);
    String reason = input.reason() == null || input.reason().isBlank() ? "no reason given" : input.reason();
    // The node refuses while the node is still a voter or learner anywhere: once out of the
    // topology it could not be addressed for removal any more (W7).
    MetadataResult r = reads.change(TopologyChange.newBuilder().setEvict(EvictNode.newBuilder().setNodeId(nodeId)
        .setCompensate(joinStep(input.workflowId())).setReason(reason)).build());
    // The node gave the join's token back in the same entry, so the node may try again with it.
    LOG.info("node {}: evicted from the topology (version {}): {}", nodeId, r.getTopologyVersion(), reason);
  }
}
