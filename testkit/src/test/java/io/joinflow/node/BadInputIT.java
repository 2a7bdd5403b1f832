package io.joinflow.node;

import io.joinflow.proto.HostPort;
import static io.joinflow.node.MembershipIT.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.proto.v1.AdmitNode;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.DropGroupRequest;
import io.joinflow.proto.v1.EvictNode;
import io.joinflow.proto.v1.HandshakeRequest;
import io.joinflow.proto.v1.JoinStep;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.PutRequest;
import io.joinflow.proto.v1.SetMember;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.proto.v1.TopologyUpdate;
import io.joinflow.proto.v1.TopologyUpdateAck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Bad requests get a status and a sentence, and change nothing. One single-node cluster. */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BadInputIT {
  private static MiniCluster cluster;

  @BeforeAll
  static void start() {
    cluster = new MiniCluster(MiniCluster.tempDir("bad-input"), 2, MiniCluster.testSettings()).startVoters(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static void assertStatus(ThrowableAssert.ThrowingCallable call, Status.Code code, String text) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).contains(text);
    });
  }

  @Test
  void shouldRefuseARequestLargerThanOneMebibyteBeforeReadingIt() {
    long version = cluster.metadata().getTopologyVersion();
    byte[] big = new byte[5 << 20];
    assertStatus(() -> cluster.data(1).put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("big"))
        .setValue(ByteString.copyFrom(big)).build()), Status.Code.RESOURCE_EXHAUSTED, "");
    assertStatus(() -> cluster.admin(1).changeTopology(TopologyChange.newBuilder().setAdmit(AdmitNode.newBuilder()
            .setNodeId(9).setAddr("x".repeat(5 << 20)).setRaftAddr("127.0.0.1:2").setIncarnation("i")).build()),
        Status.Code.RESOURCE_EXHAUSTED, "");
    assertThat(cluster.metadata().getTopologyVersion()).isEqualTo(version);
  }

  @Test
  void shouldCompareGroupIdsUnsigned() {
    long version = cluster.metadata().getTopologyVersion();
    // 4294967295 arrives as the int -1: compared signed, it would pass "group <= data groups".
    assertStatus(() -> cluster.admin(1).changeMembership(change(-1, 1, MembershipChange.ADD_LEARNER)),
        Status.Code.NOT_FOUND, "group 4294967295 does not exist");
    assertThat(cluster.metadata().getTopologyVersion()).isEqualTo(version);
  }

  @Test
  void shouldRejectMembershipChangesThatDoNotFitTheCluster() {
    long version = cluster.metadata().getTopologyVersion();
    assertStatus(() -> cluster.admin(1).changeMembership(change(1, 0, MembershipChange.ADD_LEARNER)),
        Status.Code.INVALID_ARGUMENT, "non-zero");
    assertStatus(() -> cluster.admin(1).changeMembership(change(1, 77, MembershipChange.ADD_LEARNER)),
        Status.Code.NOT_FOUND, "node 77 is not in the topology");
    assertStatus(() -> cluster.admin(1).changeMembership(change(9, 1, MembershipChange.ADD_LEARNER)),
        Status.Code.NOT_FOUND, "group 9 does not exist");
    assertStatus(() -> cluster.admin(1).changeMembership(ChangeMembershipRequest.newBuilder()
        .setGroupId(1).setNodeId(1).build()), Status.Code.INVALID_ARGUMENT, "ADD_LEARNER, PROMOTE or REMOVE");
    assertStatus(() -> cluster.admin(1).changeMembership(change(1, 1, MembershipChange.REMOVE)),
        Status.Code.FAILED_PRECONDITION, "last voter");
    assertStatus(() -> cluster.admin(1).dropGroup(DropGroupRequest.newBuilder().setGroupId(1).setNodeId(1).build()),
        Status.Code.FAILED_PRECONDITION, "still a member of group 1");
    assertThat(cluster.conf(1).voterIds()).containsExactly(1L);
    assertThat(cluster.metadata().getTopologyVersion()).isEqualTo(version);
  }

  @Test
  void shouldRejectTopologyCollisionsWithTheSeedMessages() {
    NodeRecord seed = cluster.metadata().getNodes(0);
    MetadataState before = cluster.metadata();
    assertStatus(() -> propose(seed.toBuilder().setAddr("127.0.0.1:1").build()), Status.Code.ALREADY_EXISTS,
        "node_id 1 already registered with different address " + seed.getAddr() + " (request: 127.0.0.1:1)");
    assertStatus(() -> propose(seed.toBuilder().setNodeId(2).build()), Status.Code.ALREADY_EXISTS,
        "is already used by node 1");
    assertStatus(() -> propose(seed.toBuilder().setNodeId(0).build()), Status.Code.INVALID_ARGUMENT, "non-zero");
    assertStatus(() -> cluster.admin(1).changeTopology(TopologyChange.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT, "admit, set_member or evict is required");
    assertThat(cluster.metadata()).isEqualTo(before);
  }

  private static void propose(NodeRecord node) {
    cluster.admin(1).changeTopology(TopologyChange.newBuilder().setAdmit(AdmitNode.newBuilder()
        .setNodeId(node.getNodeId()).setAddr(node.getAddr()).setRaftAddr(node.getRaftAddr())
        .setIncarnation(node.getIncarnation()).setWireVersion(node.getWireVersion()).setWorkflowId("w")).build());
  }

  @Test
  void shouldRefuseTopologyChangesNoStepOfAJoinPromotionOrLeaveWouldMake() {
    MetadataState before = cluster.metadata();
    // Node 1 votes in every group: evicting it would leave an orphan member nobody can address.
    assertStatus(() -> changeTopology(TopologyChange.newBuilder().setEvict(EvictNode.newBuilder().setNodeId(1)
            .setCompensate(JoinStep.newBuilder().setWorkflowId("w")))),
        Status.Code.FAILED_PRECONDITION, "node 1 is still a voter or learner of groups 0, 1, 2");
    // JOINING is admit's alone: no call turns a member back into a joining node.
    assertStatus(() -> changeTopology(TopologyChange.newBuilder().setSetMember(SetMember.newBuilder().setNodeId(1)
            .setState(NodeState.JOINING))),
        Status.Code.INVALID_ARGUMENT, "a node becomes JOINING only by admit");
    assertStatus(() -> changeTopology(TopologyChange.newBuilder().setSetMember(SetMember.newBuilder().setNodeId(77)
            .setState(NodeState.ACTIVE))),
        Status.Code.NOT_FOUND, "node 77 is not in the topology");
    assertStatus(() -> changeTopology(TopologyChange.newBuilder().setSetMember(SetMember.newBuilder().setNodeId(77)
            .setState(NodeState.LEARNER).setPersist(JoinStep.newBuilder().setWorkflowId("w")))),
        Status.Code.FAILED_PRECONDITION, "node 77 is not in the topology; admit it before persisting");
    assertStatus(() -> changeTopology(TopologyChange.newBuilder().setAdmit(AdmitNode.newBuilder().setNodeId(9)
            .setAddr("127.0.0.1:9"))),
        Status.Code.INVALID_ARGUMENT, "node 9 needs addr, raft_addr and incarnation");
    // A state outside `from` is left as it is (the routing is published again, nothing else).
    changeTopology(TopologyChange.newBuilder().setSetMember(SetMember.newBuilder().setNodeId(1)
        .setState(NodeState.DRAINING).addFrom(NodeState.LEARNER)));
    MetadataState after = cluster.metadata();
    assertThat(after.getNodesList()).isEqualTo(before.getNodesList());
    assertThat(after.getJoinsList()).isEqualTo(before.getJoinsList());
  }

  private static void changeTopology(TopologyChange.Builder change) {
    cluster.admin(1).changeTopology(change.build());
  }

  @Test
  void shouldRejectEmptyKeysAndForeignClusters() {
    assertStatus(() -> cluster.data(1).put(PutRequest.newBuilder().setValue(ByteString.copyFromUtf8("v")).build()),
        Status.Code.INVALID_ARGUMENT, "key must not be empty");
    long other = cluster.metadata().getClusterId() + 1;
    assertStatus(() -> cluster.admin(1).handshake(HandshakeRequest.newBuilder().setClusterId(other).build()),
        Status.Code.FAILED_PRECONDITION, "belongs to cluster");
    assertStatus(() -> cluster.admin(1).applyTopologyUpdate(TopologyUpdate.newBuilder().setClusterId(other).setVersion(5)
        .setState(MetadataState.newBuilder().setClusterId(other).setTopologyVersion(5)).build()), Status.Code.FAILED_PRECONDITION,
        "belongs to cluster");
  }

  @Test
  void shouldIgnoreOlderTopologyUpdatesOnAnEmptyNode() {
    Node empty = cluster.startNode(9, false);
    try {
      MetadataState state = cluster.metadata();
      long v = state.getTopologyVersion();
      TopologyUpdateAck first = cluster.admin(9).applyTopologyUpdate(update(state));
      assertThat(first.getApplied()).isTrue();
      TopologyUpdateAck older = cluster.admin(9).applyTopologyUpdate(update(state.toBuilder()
          .setTopologyVersion(v - 1).build()));
      assertThat(older.getApplied()).isFalse();
      assertThat(older.getVersion()).isEqualTo(v);
      assertThat(empty.catalog().topologyUpdate().orElseThrow().getVersion()).isEqualTo(v);
      assertThat(empty.identity().clusterId()).isEqualTo(state.getClusterId());
    } finally {
      cluster.stopNode(9);
    }
  }

  @Test
  void shouldKeepOnlyTopologiesTheirGroup0Holds() {
    // A node id of its own: a stopped node's data dir is kept for the next start.
    Node empty = cluster.startNode(11, false);
    try {
      MetadataState state = cluster.metadata();
      // A version from the future would make the node ignore every real update after it.
      assertStatus(() -> cluster.admin(11).applyTopologyUpdate(update(state.toBuilder()
              .setTopologyVersion(Long.MAX_VALUE).build())), Status.Code.FAILED_PRECONDITION,
          "topology version " + Long.MAX_VALUE + " is ahead of group 0's " + state.getTopologyVersion());
      // A made-up cluster id, with the real cluster's routing: no group 0 answers for it there.
      long madeUp = state.getClusterId() ^ 0x5a5a5a5aL;
      assertThatThrownBy(() -> cluster.admin(11).applyTopologyUpdate(update(state.toBuilder().setClusterId(madeUp)
          .build()))).isInstanceOf(StatusRuntimeException.class);
      assertStatus(() -> cluster.admin(11).applyTopologyUpdate(TopologyUpdate.newBuilder()
              .setClusterId(state.getClusterId()).setVersion(state.getTopologyVersion() + 1).setState(state).build()),
          Status.Code.INVALID_ARGUMENT, "differs from its state's topology_version");
      assertThat(empty.catalog().topologyUpdate()).isEmpty();
      assertThat(empty.identity().clusterId()).isZero();
      // The real one is kept.
      assertThat(cluster.admin(11).applyTopologyUpdate(update(state)).getApplied()).isTrue();
    } finally {
      cluster.stopNode(11);
    }
  }

  private static TopologyUpdate update(MetadataState state) {
    return TopologyUpdate.newBuilder().setClusterId(state.getClusterId()).setVersion(state.getTopologyVersion())
        .setState(state).build();
  }

  @Test
  void shouldRefuseToStartOnBadConfiguration(@TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> HostPort.parse("localhost")).hasMessageContaining("is not host:port");
    assertThatThrownBy(() -> HostPort.parse("127.0.0.1:0")).hasMessageContaining("port 0");
    assertThatThrownBy(() -> new NodeConfig(0, HostPort.parse("127.0.0.1:1"), HostPort.parse("127.0.0.1:2"),
        Path.of("x"), true, 8, MiniCluster.testSettings())).hasMessageContaining("node id must be non-zero");

    Path file = Files.createFile(tmp.resolve("not-a-dir"));
    assertThatThrownBy(() -> Node.start(new NodeConfig(5, HostPort.parse("127.0.0.1:1"),
        HostPort.parse("127.0.0.1:2"), file, true, 1, MiniCluster.testSettings())))
        .isInstanceOf(NodeStartException.class).hasMessageContaining("data dir");

    // A port in use (node 1's NodeAdmin port): refused before anything is written.
    Path fresh = Files.createDirectory(tmp.resolve("busy"));
    HostPort busy = cluster.node(1).config().listen();
    assertThatThrownBy(() -> Node.start(new NodeConfig(8, busy, HostPort.parse("127.0.0.1:" + freePort()),
        fresh, true, 1, MiniCluster.testSettings())))
        .isInstanceOf(NodeStartException.class).hasMessageContaining("cannot listen on " + busy + " (--listen)");
    assertThat(fresh.resolve("catalog")).doesNotExist();

    Path copy = Files.createDirectory(tmp.resolve("other"));
    try (Node other = Node.start(new NodeConfig(6, HostPort.parse("127.0.0.1:" + freePort()),
        HostPort.parse("127.0.0.1:" + freePort()), copy, false, 1, MiniCluster.testSettings()))) {
      MetadataState state = cluster.metadata();
      other.applyTopologyUpdate(update(state));
    }
    assertThatThrownBy(() -> Node.start(new NodeConfig(7, HostPort.parse("127.0.0.1:" + freePort()),
        HostPort.parse("127.0.0.1:" + freePort()), copy, false, 1, MiniCluster.testSettings())))
        .isInstanceOf(NodeStartException.class).hasMessageContaining("belongs to node 6, not 7");
    assertThatThrownBy(() -> Node.start(new NodeConfig(6, HostPort.parse("127.0.0.1:" + freePort()),
        HostPort.parse("127.0.0.1:" + freePort()), copy, true, 1, MiniCluster.testSettings())))
        .isInstanceOf(NodeStartException.class).hasMessageContaining("which it joined; --bootstrap cannot");
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
