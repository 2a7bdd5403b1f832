package io.joinflow.node.admin;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.joinflow.node.errors.StatusMapping;
import io.joinflow.node.group0.Group0Client;
import io.joinflow.node.local.GroupDivisions;
import io.joinflow.node.local.LocalIdentity;
import io.joinflow.node.local.PeerDirectory;
import io.joinflow.node.membership.Change;
import io.joinflow.node.membership.Conf;
import io.joinflow.node.membership.LearnerWatch;
import io.joinflow.node.membership.Membership;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.MetadataApplier;
import io.joinflow.node.topology.TopologyInbox;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.ChangeMembershipResponse;
import io.joinflow.proto.v1.ChangeTokenRequest;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.DropGroupRequest;
import io.joinflow.proto.v1.DropGroupResponse;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.GetGroupRequest;
import io.joinflow.proto.v1.GetMetadataRequest;
import io.joinflow.proto.v1.GetTokensRequest;
import io.joinflow.proto.v1.GetTokensResponse;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.HandshakeRequest;
import io.joinflow.proto.v1.HandshakeResponse;
import io.joinflow.proto.v1.HostGroupRequest;
import io.joinflow.proto.v1.HostGroupResponse;
import io.joinflow.proto.v1.LearnerProgressRequest;
import io.joinflow.proto.v1.LearnerProgressResponse;
import io.joinflow.proto.v1.MemberProgress;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeAdminGrpc;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.proto.v1.TopologyUpdate;
import io.joinflow.proto.v1.TopologyUpdateAck;
import io.joinflow.proto.v1.TransferLeadershipRequest;
import io.joinflow.proto.v1.TransferLeadershipResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NodeAdmin on one node. Any node answers any call: it reads group 0 through its leader and
 * sends membership changes to each group's leader itself. Every call validates its input
 * before it changes anything. It is built from the node's parts, never from the node itself.
 */
public final class NodeAdminService extends NodeAdminGrpc.NodeAdminImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(NodeAdminService.class);

  private final LocalIdentity identity;
  private final Group0Client group0;
  private final GroupDivisions divisions;
  private final PeerDirectory peers;
  private final TopologyInbox inbox;
  private final Membership membership;
  private final Executor groupReads;
  private final Duration transferTimeout;
  private final Duration maxProgressWait;
  // Every role of the cluster may read the view, which asks every group's leader: concurrent
  // calls share one read (H10).
  private final SharedRead<ClusterView> views;
  private final TopologyChanges topologyChanges;

  /**
   * @param groupReads runs a cluster view's reads of each group's leader in parallel (blocking)
   * @param transferTimeout how long one leadership transfer may take
   * @param maxProgressWait the longest one LearnerProgress call may wait
   */
  public NodeAdminService(LocalIdentity identity, Group0Client group0, GroupDivisions divisions, PeerDirectory peers,
                          TopologyInbox inbox, Membership membership, Executor groupReads, Duration transferTimeout,
                          Duration maxProgressWait) {
    this.identity = identity;
    this.group0 = group0;
    this.divisions = divisions;
    this.peers = peers;
    this.inbox = inbox;
    this.membership = membership;
    this.groupReads = groupReads;
    this.transferTimeout = transferTimeout;
    this.maxProgressWait = maxProgressWait;
    this.views = new SharedRead<>(this::clusterView);
    this.topologyChanges = new TopologyChanges(group0, views::get, Clock.systemUTC(),
        Long.toUnsignedString(identity.nodeId()));
  }

  @FunctionalInterface
  private interface Call<T> {
    T run() throws Exception;
  }

  private <T> void answer(String what, StreamObserver<T> out, Call<T> call) {
    T result;
    try {
      result = call.run();
    } catch (Exception e) {
      fail(what, out, e);
      return;
    }
    reply(out, result);
  }

  private static <T> void reply(StreamObserver<T> out, T result) {
    out.onNext(result);
    out.onCompleted();
  }

  private void fail(String what, StreamObserver<?> out, Throwable e) {
    Status s = StatusMapping.toStatus(e);
    if (s.getCode() == Status.Code.INTERNAL) {
      LOG.error("node {}: {} failed", Long.toUnsignedString(identity.nodeId()), what, e);
    } else {
      LOG.debug("node {}: {} failed: {}", Long.toUnsignedString(identity.nodeId()), what, s);
    }
    out.onError(s.asException());
  }

  @Override
  public void getClusterView(GetClusterViewRequest request, StreamObserver<ClusterView> out) {
    answer("cluster view", out, views::get);
  }

  private ClusterView clusterView() throws StatusException {
    MetadataState state = group0.read();
    ClusterView.Builder view = ClusterView.newBuilder()
        .setClusterId(state.getClusterId())
        .setTopologyVersion(state.getTopologyVersion())
        .setDataGroups(state.getDataGroups())
        .addAllNodes(state.getNodesList())
        .addAllRouting(state.getRoutingList())
        .addAllJoins(state.getJoinsList())
        .setAnsweredBy(identity.nodeId());
    for (int i = 0; i < ClusterIds.VSHARDS && state.getDataGroups() > 0; i++) {
      view.addVshardToGroup(ClusterIds.groupOfVshard(i, state.getDataGroups()));
    }
    // One round trip to each group's leader; made at once, so a view of many groups costs
    // about as much as a view of one.
    List<CompletableFuture<GroupView>> groups = new ArrayList<>();
    for (int g = 0; g <= state.getDataGroups(); g++) {
      int group = g;
      groups.add(CompletableFuture.supplyAsync(() -> groupView(state, group), groupReads));
    }
    groups.forEach(g -> view.addGroups(g.join()));
    return view.build();
  }

  @Override
  public void getMetadata(GetMetadataRequest request, StreamObserver<MetadataState> out) {
    // Token hashes are for the gateway alone (GetTokens): every role may read metadata.
    answer("metadata", out, () -> group0.read().toBuilder().clearTokens().build());
  }

  @Override
  public void getTokens(GetTokensRequest request,
                        StreamObserver<GetTokensResponse> out) {
    answer("join tokens", out, () -> GetTokensResponse.newBuilder()
        .addAllTokens(group0.read().getTokensList()).build());
  }

  @Override
  public void changeToken(ChangeTokenRequest request, StreamObserver<MetadataResult> out) {
    answer("change a join token", out, () -> {
      MetadataCommand.Builder command = MetadataCommand.newBuilder();
      switch (request.getChangeCase()) {
        case ISSUE -> command.setIssueToken(request.getIssue());
        case SET_STATE -> command.setSetTokenState(request.getSetState());
        default -> throw Status.INVALID_ARGUMENT.withDescription("issue or set_state is required").asException();
      }
      return group0.propose(command.build());
    });
  }

  @Override
  public void getGroup(GetGroupRequest request, StreamObserver<GroupView> out) {
    answer("group " + Integer.toUnsignedString(request.getGroupId()), out, () -> {
      MetadataState state = group0.read();
      requireGroup(state, request.getGroupId());
      return groupView(state, request.getGroupId());
    });
  }

  private static void requireGroup(MetadataState state, int group) throws StatusException {
    // uint32 on the wire: an id above 2^31 arrives negative.
    if (Integer.toUnsignedLong(group) > state.getDataGroups()) {
      throw Status.NOT_FOUND.withDescription("group " + Integer.toUnsignedString(group) + " does not exist; groups are 0.."
          + state.getDataGroups()).asException();
    }
  }

  private GroupView groupView(MetadataState state, int group) {
    GroupView.Builder b = GroupView.newBuilder().setGroupId(group);
    try {
      Conf conf = membership.confs().readConf(divisions.groupId(group), peers.candidates(state, group));
      b.setLeader(ClusterIds.nodeId(conf.leader().getId()))
          .addAllVoters(conf.voterIds())
          .addAllLearners(conf.listenerIds())
          .setCommitIndex(conf.leaderCommitIndex());
      for (CommitInfoProto ci : conf.commitInfos()) {
        b.addMembers(MemberProgress.newBuilder()
            .setNodeId(ClusterIds.nodeId(ProtoUtils.toRaftPeer(ci.getServer()).getId()))
            .setCommitIndex(ci.getCommitIndex()));
      }
    } catch (Exception e) {
      // No reachable leader: report the group with routing's membership and leader 0.
      GroupRoute r = MetadataApplier.findRoute(state, group);
      if (r != null) {
        b.addAllVoters(r.getVotersList()).addAllLearners(r.getLearnersList());
      }
    }
    return b.build();
  }

  @Override
  public void handshake(HandshakeRequest request, StreamObserver<HandshakeResponse> out) {
    answer("handshake", out, () -> {
      var id = identity.get();
      long nodeId = identity.nodeId();
      if (request.getExpectedNodeId() != 0 && request.getExpectedNodeId() != nodeId) {
        throw Status.FAILED_PRECONDITION.withDescription("this is node " + Long.toUnsignedString(nodeId)
            + ", not " + Long.toUnsignedString(request.getExpectedNodeId()) + "; check the address").asException();
      }
      if (request.getClusterId() != 0 && id.clusterId() != 0 && request.getClusterId() != id.clusterId()) {
        throw Status.FAILED_PRECONDITION.withDescription("node " + Long.toUnsignedString(nodeId)
            + " belongs to cluster " + Long.toUnsignedString(id.clusterId()) + ", not " + Long.toUnsignedString(request.getClusterId())
            + "; wipe its data dir to move it").asException();
      }
      var hosted = divisions.hosted();
      return HandshakeResponse.newBuilder()
          .setNodeId(nodeId)
          .setAddr(identity.listen().toString())
          .setRaftAddr(identity.raftListen().toString())
          .setIncarnation(id.incarnation())
          .setClusterId(id.clusterId())
          .setEmpty(id.clusterId() == 0 && hosted.isEmpty())
          .addAllHostedGroups(hosted)
          .setWireVersion(LocalIdentity.WIRE_VERSION)
          .build();
    });
  }

  private record Target(MetadataState state, RaftGroupId groupId, RaftPeer peer,
                        Collection<RaftPeer> candidates) {}

  private Target target(int group, long nodeId) throws StatusException {
    if (nodeId == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("node_id must be non-zero").asException();
    }
    MetadataState state = group0.read();
    requireGroup(state, group);
    RaftPeer peer = peers.peerOf(state, nodeId);
    return new Target(state, divisions.groupId(group), peer, peers.candidates(state, group));
  }

  /**
   * Like {@link #target}, for a call polled many times a second while learners catch up: from
   * this node's own copy of group 0 when it knows the node and the group, so the polls do not
   * each read group 0 through its leader.
   */
  private Target progressTarget(int group, long nodeId) throws StatusException {
    MetadataState local = group0.local();
    if (nodeId != 0 && Integer.compareUnsigned(group, local.getDataGroups()) <= 0 && MetadataApplier.findNode(local, nodeId) != null) {
      return new Target(local, divisions.groupId(group), peers.peerOf(local, nodeId), peers.candidates(local, group));
    }
    return target(group, nodeId);
  }

  @Override
  public void hostGroup(HostGroupRequest request, StreamObserver<HostGroupResponse> out) {
    answer("host group", out, () -> {
      Target t = target(request.getGroupId(), request.getNodeId());
      Conf conf = membership.confs().readConf(t.groupId(), t.candidates());
      boolean created = membership.hosting().hostDivision(t.groupId(), t.peer(), conf.voters());
      return HostGroupResponse.newBuilder().setAlreadyHosted(!created).build();
    });
  }

  @Override
  public void dropGroup(DropGroupRequest request, StreamObserver<DropGroupResponse> out) {
    answer("drop group", out, () -> {
      Target t = target(request.getGroupId(), request.getNodeId());
      Conf conf = membership.confs().readConf(t.groupId(), t.candidates());
      if (conf.isVoter(t.peer().getId()) || conf.isListener(t.peer().getId())) {
        throw Status.FAILED_PRECONDITION.withDescription("node " + request.getNodeId()
            + " is still a member of group " + request.getGroupId() + "; remove it from the group first")
            .asException();
      }
      boolean dropped = membership.hosting().dropDivision(t.groupId(), t.peer());
      return DropGroupResponse.newBuilder().setWasHosted(dropped).build();
    });
  }

  @Override
  public void changeMembership(ChangeMembershipRequest request, StreamObserver<ChangeMembershipResponse> out) {
    answer("change membership", out, () -> {
      Target t = target(request.getGroupId(), request.getNodeId());
      var changes = membership.changes();
      Change change = switch (request.getChange()) {
        case ADD_LEARNER -> changes.addLearner(t.groupId(), t.peer(), t.candidates());
        case PROMOTE -> changes.promote(t.groupId(), t.peer().getId(), t.candidates(), request.getMaxVoters());
        case REMOVE -> changes.removeMember(t.groupId(), t.peer(), t.candidates());
        case REMOVE_LEARNER -> changes.removeLearner(t.groupId(), t.peer(), t.candidates());
        default -> throw Status.INVALID_ARGUMENT
            .withDescription("change must be ADD_LEARNER, PROMOTE or REMOVE, or REMOVE_LEARNER (a learner only)")
            .asException();
      };
      return ChangeMembershipResponse.newBuilder()
          .setChanged(change.changed())
          .addAllVoters(change.conf().voterIds())
          .addAllLearners(change.conf().listenerIds())
          .setLeader(ClusterIds.nodeId(change.conf().leader().getId()))
          .setAttempts(change.attempts())
          .build();
    });
  }

  @Override
  public void transferLeadership(TransferLeadershipRequest request, StreamObserver<TransferLeadershipResponse> out) {
    answer("transfer leadership", out, () -> {
      Target t = target(request.getGroupId(), request.getAwayFrom());
      var next = membership.leadership().transferLeadershipAway(t.groupId(), t.peer().getId(), t.candidates(),
          transferTimeout);
      if (next == null) {
        Conf conf = membership.confs().readConf(t.groupId(), t.candidates());
        return TransferLeadershipResponse.newBuilder().setTransferred(false)
            .setLeader(ClusterIds.nodeId(conf.leader().getId())).build();
      }
      return TransferLeadershipResponse.newBuilder().setTransferred(true).setLeader(ClusterIds.nodeId(next)).build();
    });
  }

  /**
   * Answers at once, or — with {@code wait_millis} — once the learner reached the target or the
   * wait ended, whichever comes first. A waiting call holds no thread: the learner watch asks
   * only the learner, from a shared scheduler, after the first read of the configuration.
   */
  @Override
  public void learnerProgress(LearnerProgressRequest request, StreamObserver<LearnerProgressResponse> out) {
    long waitMillis = Integer.toUnsignedLong(request.getWaitMillis());
    LearnerWatch.ProgressWatch watch;
    RaftGroupId groupId;
    try {
      if (waitMillis > maxProgressWait.toMillis()) {
        throw Status.INVALID_ARGUMENT.withDescription("wait_millis " + waitMillis + " is too long; wait at most "
            + maxProgressWait.toMillis() + " ms per call and call again").asException();
      }
      Target t = progressTarget(request.getGroupId(), request.getNodeId());
      groupId = t.groupId();
      watch = membership.watch().watch(groupId, t.peer(), t.candidates(), request.getTargetIndex());
    } catch (Exception e) {
      fail("learner progress", out, e);
      return;
    }
    if (waitMillis == 0 || watch.progress().caughtUp() || !watch.progress().inConf()) {
      reply(out, progressResponse(watch.progress()));
      return;
    }
    CompletableFuture<LearnerWatch.ProgressWatch> waiting =
        membership.watch().awaitCaughtUp(groupId, watch, Duration.ofMillis(waitMillis));
    if (out instanceof ServerCallStreamObserver<LearnerProgressResponse> call) {
      call.setOnCancelHandler(() -> waiting.cancel(false));
    }
    waiting.whenComplete((done, failure) -> {
      if (waiting.isCancelled()) {
        return;
      }
      if (failure != null) {
        fail("learner progress", out, failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
            ? c.getCause() : failure);
      } else {
        reply(out, progressResponse(done.progress()));
      }
    });
  }

  private static LearnerProgressResponse progressResponse(LearnerWatch.Progress p) {
    return LearnerProgressResponse.newBuilder()
        .setInConf(p.inConf()).setIsLearner(p.learner()).setIsVoter(p.voter())
        .setAppliedIndex(p.applied()).setMatchedIndex(p.matched()).setTargetIndex(p.target())
        .setCaughtUp(p.caughtUp())
        .build();
  }

  @Override
  public void changeTopology(TopologyChange request, StreamObserver<MetadataResult> out) {
    answer("change the topology (" + request.getChangeCase() + ")", out, () -> topologyChanges.apply(request));
  }

  @Override
  public void applyTopologyUpdate(TopologyUpdate request, StreamObserver<TopologyUpdateAck> out) {
    answer("topology update", out, () -> {
      TopologyInbox.Ack ack = inbox.apply(request);
      return TopologyUpdateAck.newBuilder().setVersion(ack.version()).setApplied(ack.applied()).build();
    });
  }
}
