package io.joinflow.node.admin;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.joinflow.node.Node;
import io.joinflow.node.membership.MembershipOps;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.DataStateMachine;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.ChangeMembershipResponse;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.DropGroupRequest;
import io.joinflow.proto.v1.DropGroupResponse;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.GetRequest;
import io.joinflow.proto.v1.GetResponse;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.HandshakeRequest;
import io.joinflow.proto.v1.HandshakeResponse;
import io.joinflow.proto.v1.HostGroupRequest;
import io.joinflow.proto.v1.HostGroupResponse;
import io.joinflow.proto.v1.LearnerProgressRequest;
import io.joinflow.proto.v1.LearnerProgressResponse;
import io.joinflow.proto.v1.MemberProgress;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeAdminGrpc;
import io.joinflow.proto.v1.ProposeMetadataRequest;
import io.joinflow.proto.v1.PutRequest;
import io.joinflow.proto.v1.PutResponse;
import io.joinflow.proto.v1.ReadConsistency;
import io.joinflow.proto.v1.TopologyUpdate;
import io.joinflow.proto.v1.TopologyUpdateAck;
import io.joinflow.proto.v1.TransferLeadershipRequest;
import io.joinflow.proto.v1.TransferLeadershipResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NodeAdmin on one node. Any node answers any call: it reads group 0 through its leader and
 * sends membership changes to each group's leader itself. Every call validates its input
 * before it changes anything.
 */
public final class NodeAdminService extends NodeAdminGrpc.NodeAdminImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(NodeAdminService.class);

  /** How long one leadership transfer may take (≈80 ms measured; elections take ≈0.5 s). */
  private static final java.time.Duration TRANSFER_TIMEOUT = java.time.Duration.ofSeconds(5);
  /** The longest a LearnerProgress call may wait on the node; callers call again to wait longer. */
  static final long MAX_PROGRESS_WAIT_MS = 10_000;
  /** Checks of waiting LearnerProgress calls: one short RPC each, shared by the JVM's nodes. */
  private static final ScheduledExecutorService PROGRESS_WAITS = Executors.newScheduledThreadPool(4, r -> {
    Thread t = new Thread(r, "learner-progress-wait");
    t.setDaemon(true);
    return t;
  });

  /** Reads of group confs for cluster views; blocking RPCs, bounded and shared by the JVM's nodes. */
  private static final ExecutorService GROUP_READS = groupReads();

  private final Node node;

  public NodeAdminService(Node node) {
    this.node = node;
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

  private void fail(String what, StreamObserver<?> out, Exception e) {
    Status s = StatusMapping.toStatus(e);
    if (s.getCode() == Status.Code.INTERNAL) {
      LOG.error("node {}: {} failed", node.nodeId(), what, e);
    } else {
      LOG.debug("node {}: {} failed: {}", node.nodeId(), what, s);
    }
    out.onError(s.asException());
  }

  @Override
  public void getClusterView(GetClusterViewRequest request, StreamObserver<ClusterView> out) {
    answer("cluster view", out, () -> clusterView());
  }

  private ClusterView clusterView() throws StatusException {
    MetadataState state = node.readMetadata();
    ClusterView.Builder view = ClusterView.newBuilder()
        .setClusterId(state.getClusterId())
        .setTopologyVersion(state.getTopologyVersion())
        .setDataGroups(state.getDataGroups())
        .addAllNodes(state.getNodesList())
        .addAllRouting(state.getRoutingList())
        .addAllJoins(state.getJoinsList())
        .setAnsweredBy(node.nodeId());
    for (int i = 0; i < ClusterIds.VSHARDS && state.getDataGroups() > 0; i++) {
      view.addVshardToGroup(ClusterIds.groupOfVshard(i, state.getDataGroups()));
    }
    // One round trip to each group's leader; made at once, so a view of many groups costs
    // about as much as a view of one.
    List<CompletableFuture<GroupView>> groups = new ArrayList<>();
    for (int g = 0; g <= state.getDataGroups(); g++) {
      int group = g;
      groups.add(CompletableFuture.supplyAsync(() -> groupView(state, group), GROUP_READS));
    }
    groups.forEach(g -> view.addGroups(g.join()));
    return view.build();
  }

  private static ExecutorService groupReads() {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(16, 16, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "cluster-view-read");
      t.setDaemon(true);
      return t;
    });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  private GroupView groupView(MetadataState state, int group) {
    GroupView.Builder b = GroupView.newBuilder().setGroupId(group);
    try {
      MembershipOps.Conf conf = node.membership().readConf(node.groupId(group), node.candidates(state, group));
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
      GroupRoute r = io.joinflow.node.raft.MetadataApplier.findRoute(state, group);
      if (r != null) {
        b.addAllVoters(r.getVotersList()).addAllLearners(r.getLearnersList());
      }
    }
    return b.build();
  }

  @Override
  public void handshake(HandshakeRequest request, StreamObserver<HandshakeResponse> out) {
    answer("handshake", out, () -> {
      var id = node.identity();
      if (request.getExpectedNodeId() != 0 && request.getExpectedNodeId() != node.nodeId()) {
        throw Status.FAILED_PRECONDITION.withDescription("this is node " + Long.toUnsignedString(node.nodeId())
            + ", not " + Long.toUnsignedString(request.getExpectedNodeId()) + "; check the address").asException();
      }
      if (request.getClusterId() != 0 && id.clusterId() != 0 && request.getClusterId() != id.clusterId()) {
        throw Status.FAILED_PRECONDITION.withDescription("node " + Long.toUnsignedString(node.nodeId())
            + " belongs to cluster " + Long.toUnsignedString(id.clusterId()) + ", not " + Long.toUnsignedString(request.getClusterId())
            + "; wipe its data dir to move it").asException();
      }
      var hosted = node.hostedGroups();
      return HandshakeResponse.newBuilder()
          .setNodeId(node.nodeId())
          .setAddr(node.config().listen().toString())
          .setRaftAddr(node.config().raftListen().toString())
          .setIncarnation(id.incarnation())
          .setClusterId(id.clusterId())
          .setEmpty(id.clusterId() == 0 && hosted.isEmpty())
          .addAllHostedGroups(hosted)
          .setWireVersion(Node.WIRE_VERSION)
          .build();
    });
  }

  private record Target(MetadataState state, RaftGroupId groupId, RaftPeer peer,
                        Collection<RaftPeer> candidates) {}

  private Target target(int group, long nodeId) throws StatusException {
    if (nodeId == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("node_id must be non-zero").asException();
    }
    MetadataState state = node.readMetadata();
    if (group > state.getDataGroups()) {
      throw Status.NOT_FOUND.withDescription("group " + group + " does not exist; groups are 0.."
          + state.getDataGroups()).asException();
    }
    RaftPeer peer = node.peerOf(state, nodeId);
    return new Target(state, node.groupId(group), peer, node.candidates(state, group));
  }

  /**
   * Like {@link #target}, for a call polled many times a second while learners catch up: from
   * this node's own copy of group 0 when it knows the node and the group, so the polls do not
   * each read group 0 through its leader.
   */
  private Target progressTarget(int group, long nodeId) throws StatusException {
    MetadataState local = node.localMetadata();
    if (nodeId != 0 && group <= local.getDataGroups()
        && io.joinflow.node.raft.MetadataApplier.findNode(local, nodeId) != null) {
      return new Target(local, node.groupId(group), node.peerOf(local, nodeId), node.candidates(local, group));
    }
    return target(group, nodeId);
  }

  @Override
  public void hostGroup(HostGroupRequest request, StreamObserver<HostGroupResponse> out) {
    answer("host group", out, () -> {
      Target t = target(request.getGroupId(), request.getNodeId());
      MembershipOps.Conf conf = node.membership().readConf(t.groupId(), t.candidates());
      boolean created = node.membership().hostDivision(t.groupId(), t.peer(), conf.voters());
      return HostGroupResponse.newBuilder().setAlreadyHosted(!created).build();
    });
  }

  @Override
  public void dropGroup(DropGroupRequest request, StreamObserver<DropGroupResponse> out) {
    answer("drop group", out, () -> {
      Target t = target(request.getGroupId(), request.getNodeId());
      MembershipOps.Conf conf = node.membership().readConf(t.groupId(), t.candidates());
      if (conf.isVoter(t.peer().getId()) || conf.isListener(t.peer().getId())) {
        throw Status.FAILED_PRECONDITION.withDescription("node " + request.getNodeId()
            + " is still a member of group " + request.getGroupId() + "; remove it from the group first")
            .asException();
      }
      boolean dropped = node.membership().dropDivision(t.groupId(), t.peer());
      return DropGroupResponse.newBuilder().setWasHosted(dropped).build();
    });
  }

  @Override
  public void changeMembership(ChangeMembershipRequest request, StreamObserver<ChangeMembershipResponse> out) {
    answer("change membership", out, () -> {
      Target t = target(request.getGroupId(), request.getNodeId());
      MembershipOps ops = node.membership();
      MembershipOps.Change change = switch (request.getChange()) {
        case ADD_LEARNER -> ops.addLearner(t.groupId(), t.peer(), t.candidates());
        case PROMOTE -> ops.promote(t.groupId(), t.peer().getId(), t.candidates(), request.getMaxVoters());
        case REMOVE -> ops.remove(t.groupId(), t.peer(), t.candidates());
        default -> throw Status.INVALID_ARGUMENT
            .withDescription("change must be ADD_LEARNER, PROMOTE or REMOVE").asException();
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
      var next = node.membership().transferLeadershipAway(t.groupId(), t.peer().getId(), t.candidates(),
          TRANSFER_TIMEOUT);
      if (next == null) {
        MembershipOps.Conf conf = node.membership().readConf(t.groupId(), t.candidates());
        return TransferLeadershipResponse.newBuilder().setTransferred(false)
            .setLeader(ClusterIds.nodeId(conf.leader().getId())).build();
      }
      return TransferLeadershipResponse.newBuilder().setTransferred(true).setLeader(ClusterIds.nodeId(next)).build();
    });
  }

  /**
   * Answers at once, or — with {@code wait_millis} — once the learner reached the target or the
   * wait ended, whichever comes first. A waiting call holds no thread: after the first read of
   * the configuration, a shared scheduler asks only the learner, every {@value MembershipOps#PROGRESS_CHECK_MS} ms.
   */
  @Override
  public void learnerProgress(LearnerProgressRequest request, StreamObserver<LearnerProgressResponse> out) {
    long waitMillis = Integer.toUnsignedLong(request.getWaitMillis());
    MembershipOps.ProgressWatch watch;
    RaftGroupId groupId;
    try {
      if (waitMillis > MAX_PROGRESS_WAIT_MS) {
        throw Status.INVALID_ARGUMENT.withDescription("wait_millis " + waitMillis + " is too long; wait at most "
            + MAX_PROGRESS_WAIT_MS + " ms per call and call again").asException();
      }
      Target t = progressTarget(request.getGroupId(), request.getNodeId());
      groupId = t.groupId();
      watch = node.membership().watchProgress(groupId, t.peer(), t.candidates(), request.getTargetIndex());
    } catch (Exception e) {
      fail("learner progress", out, e);
      return;
    }
    if (waitMillis == 0 || watch.progress().caughtUp() || !watch.progress().inConf()) {
      reply(out, progressResponse(watch.progress()));
      return;
    }
    new ProgressWait(groupId, watch, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis), out).next();
  }

  /** One waiting LearnerProgress call: asks the learner until it caught up or the wait ends. */
  private final class ProgressWait implements Runnable {
    private final RaftGroupId groupId;
    private final long deadlineNanos;
    private final StreamObserver<LearnerProgressResponse> out;
    private MembershipOps.ProgressWatch watch;

    ProgressWait(RaftGroupId groupId, MembershipOps.ProgressWatch watch, long deadlineNanos,
                 StreamObserver<LearnerProgressResponse> out) {
      this.groupId = groupId;
      this.watch = watch;
      this.deadlineNanos = deadlineNanos;
      this.out = out;
    }

    void next() {
      try {
        PROGRESS_WAITS.schedule(this, MembershipOps.PROGRESS_CHECK_MS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        reply(out, progressResponse(watch.progress()));
      }
    }

    @Override
    public void run() {
      if (out instanceof io.grpc.stub.ServerCallStreamObserver<?> call && call.isCancelled()) {
        return;
      }
      try {
        watch = watch.applied(node.membership().appliedIndex(groupId, watch.learner()));
      } catch (Exception e) {
        fail("learner progress", out, e);
        return;
      }
      if (watch.progress().caughtUp() || System.nanoTime() - deadlineNanos >= 0) {
        reply(out, progressResponse(watch.progress()));
      } else {
        next();
      }
    }
  }

  private static LearnerProgressResponse progressResponse(MembershipOps.Progress p) {
    return LearnerProgressResponse.newBuilder()
        .setInConf(p.inConf()).setIsLearner(p.learner()).setIsVoter(p.voter())
        .setAppliedIndex(p.applied()).setTargetIndex(p.target()).setCaughtUp(p.caughtUp())
        .build();
  }

  @Override
  public void proposeMetadata(ProposeMetadataRequest request, StreamObserver<MetadataResult> out) {
    answer("propose metadata", out, () -> {
      if (!request.hasCommand()) {
        throw Status.INVALID_ARGUMENT.withDescription("command is required").asException();
      }
      return node.propose(request.getCommand());
    });
  }

  @Override
  public void applyTopologyUpdate(TopologyUpdate request, StreamObserver<TopologyUpdateAck> out) {
    answer("topology update", out, () -> {
      Node.TopologyAck ack = node.applyTopologyUpdate(request);
      return TopologyUpdateAck.newBuilder().setVersion(ack.version()).setApplied(ack.applied()).build();
    });
  }

  @Override
  public void put(PutRequest request, StreamObserver<PutResponse> out) {
    answer("put", out, () -> {
      int group = ownerOf(request.getKey().toByteArray());
      byte[] reply = node.sendToGroup(group, request.toByteArray(), false);
      return parse(() -> PutResponse.parseFrom(reply));
    });
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> out) {
    answer("get", out, () -> {
      int group = ownerOf(request.getKey().toByteArray());
      if (request.getConsistency() == ReadConsistency.LOCAL) {
        RaftServer.Division d = node.division(group).orElseThrow(() -> Status.FAILED_PRECONDITION
            .withDescription("node " + node.nodeId() + " hosts no replica of group " + group
                + "; use LINEARIZABLE").asException());
        return ((DataStateMachine) d.getStateMachine()).read(request);
      }
      byte[] reply = node.sendToGroup(group, request.toByteArray(), true);
      return parse(() -> GetResponse.parseFrom(reply));
    });
  }

  private int ownerOf(byte[] key) throws StatusException {
    if (key.length == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("key must not be empty").asException();
    }
    int groups = node.localMetadata().getDataGroups();
    if (groups == 0) {
      groups = node.identity().dataGroups();
    }
    if (groups == 0) {
      throw Status.FAILED_PRECONDITION.withDescription("node " + node.nodeId()
          + " belongs to no cluster yet").asException();
    }
    return ClusterIds.groupOfVshard(ClusterIds.vshardOf(key), groups);
  }

  @FunctionalInterface
  private interface Parse<T> {
    T run() throws InvalidProtocolBufferException;
  }

  private static <T> T parse(Parse<T> p) throws StatusException {
    try {
      return p.run();
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL.withDescription("undecodable reply: " + e.getMessage()).asException();
    }
  }
}
