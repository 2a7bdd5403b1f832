package io.joinflow.node;

import static io.joinflow.node.MembershipIT.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.joinflow.node.raft.RaftTls;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.node.testing.ReflectionProbe;
import io.joinflow.proto.v1.DataGrpc;
import io.joinflow.proto.v1.EvictNode;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.GetRequest;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.NodeAdminGrpc;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.PutRequest;
import io.joinflow.proto.v1.SetMember;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.security.CertsDir;
import io.joinflow.security.Role;
import io.joinflow.security.TlsIdentity;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A secure cluster (mutual TLS from one cluster CA on NodeAdmin, Data and Ratis) refuses callers
 * without a certificate of the right role, and every refused call changes nothing.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NodeSecurityIT extends MiniClusterTest {
  @BeforeEach
  void start() {
    // Three voters joined over mutual TLS: Ratis traffic between the nodes is itself proof that
    // node certificates work in both directions.
    cluster = new MiniCluster(MiniCluster.tempDir("secure"), 1, MiniCluster.testSettings()).secure().startVoters(3);
  }

  private static void assertStatus(ThrowableAssert.ThrowingCallable call, Status.Code code, String text) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(String.valueOf(e.getStatus().getDescription())).contains(text);
    });
  }

  private static NodeAdminGrpc.NodeAdminBlockingStub admin(ManagedChannel ch) {
    return NodeAdminGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  @Test
  void aPlaintextCallerCannotRemoveANode() {
    var before = cluster.metadata();
    ManagedChannel plaintext = NettyChannelBuilder.forAddress("127.0.0.1", cluster.node(1).adminPort())
        .usePlaintext().build();
    try {
      assertStatus(() -> admin(plaintext).changeTopology(removeNode3()), Status.Code.UNAVAILABLE, "");
      assertStatus(() -> admin(plaintext).getClusterView(GetClusterViewRequest.getDefaultInstance()),
          Status.Code.UNAVAILABLE, "");
    } finally {
      plaintext.shutdownNow();
    }
    assertThat(cluster.metadata()).isEqualTo(before);
  }

  @Test
  void onlyTheWorkerMayChangeANode() {
    var before = cluster.metadata();
    for (Role role : List.of(Role.OPERATOR, Role.GATEWAY, Role.CLIENT)) {
      ManagedChannel ch = cluster.connect(1, role);
      try {
        assertStatus(() -> admin(ch).changeTopology(removeNode3()), Status.Code.PERMISSION_DENIED,
            "joinflow.v1.NodeAdmin/ChangeTopology needs a certificate of role worker; the caller is "
                + role.label() + " of mini");
        assertStatus(() -> admin(ch).changeMembership(change(1, 3, MembershipChange.REMOVE)),
            Status.Code.PERMISSION_DENIED, "needs a certificate of role worker");
        // Reads are open to every role of the cluster.
        assertThat(admin(ch).getClusterView(GetClusterViewRequest.getDefaultInstance()).getNodesCount())
            .isEqualTo(3);
      } finally {
        ch.shutdownNow();
      }
    }
    assertThat(cluster.metadata()).isEqualTo(before);
    assertThat(cluster.conf(1).voterIds()).containsExactlyInAnyOrder(1L, 2L, 3L);
  }

  @Test
  void theWorkerTakesTheStepsOfAJoinNotRawGroup0Commands() {
    var before = cluster.metadata();
    ManagedChannel worker = cluster.connect(1, Role.WORKER);
    try {
      // The worker's certificate reaches ChangeTopology, and the node still refuses a step that
      // no join, promotion or leave takes: evicting a voter, making a member JOINING again.
      assertStatus(() -> admin(worker).changeTopology(removeNode3()), Status.Code.FAILED_PRECONDITION,
          "node 3 is still a voter or learner of groups 0, 1");
      assertStatus(() -> admin(worker).changeTopology(TopologyChange.newBuilder().setSetMember(SetMember.newBuilder()
          .setNodeId(3).setState(NodeState.JOINING)).build()), Status.Code.INVALID_ARGUMENT,
          "a node becomes JOINING only by admit");
    } finally {
      worker.shutdownNow();
    }
    assertThat(cluster.metadata().getNodesList()).isEqualTo(before.getNodesList());
    assertThat(cluster.conf(1).voterIds()).containsExactlyInAnyOrder(1L, 2L, 3L);
  }

  @Test
  void aProductionNodeServesNoReflection() throws Exception {
    ManagedChannel operator = cluster.connect(1, Role.OPERATOR);
    try {
      assertThatThrownBy(() -> ReflectionProbe.services(operator)).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
      // The same certificate reaches the port: the refusal is reflection's absence.
      assertThat(admin(operator).getClusterView(GetClusterViewRequest.getDefaultInstance()).getNodesCount())
          .isEqualTo(3);
    } finally {
      operator.shutdownNow();
    }
  }

  @Test
  void dataIsForClientsOnly() {
    PutRequest put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v"))
        .build();
    cluster.data(1).put(put);
    assertThat(cluster.data(2).get(GetRequest.newBuilder().setKey(put.getKey()).build()).getValue())
        .isEqualTo(put.getValue());
    ManagedChannel worker = cluster.connect(1, Role.WORKER);
    try {
      assertStatus(() -> DataGrpc.newBlockingStub(worker).withDeadlineAfter(20, TimeUnit.SECONDS).put(put),
          Status.Code.PERMISSION_DENIED, "joinflow.v1.Data/Put needs a certificate of role client");
    } finally {
      worker.shutdownNow();
    }
  }

  @Test
  void theRatisPortRefusesAClientWithoutANodeCertificate() throws Exception {
    Node leader = cluster.node(cluster.leaderOf(1));
    RaftGroupId group = leader.groupId(1);
    RaftPeer peer = leader.self();
    CertsDir certs = cluster.certs();
    TlsIdentity worker = certs.identity(Role.WORKER, 0);
    Parameters withWorkerCert = new Parameters();
    GrpcConfigKeys.TLS.setConf(withWorkerCert,
        new GrpcTlsConfig(worker.keyManager(), worker.trustManager(Set.of(Role.NODE)), true));

    for (Parameters transport : List.of(new Parameters(), withWorkerCert)) {
      try (RaftClient raw = RaftClient.newBuilder().setProperties(MiniCluster.testSettings().clientProperties())
          .setParameters(transport).setRetryPolicy(RetryPolicies.noRetry())
          .setRaftGroup(RaftGroup.valueOf(group, peer)).build()) {
        assertThatThrownBy(() -> raw.getGroupManagementApi(peer.getId()).remove(group, true, false))
            .isInstanceOf(IOException.class);
      }
    }
    // The same call with the node's own certificate reaches the server: the refusals above were
    // the transport's, not a wrong group id. (An info call, so nothing is removed.)
    try (RaftClient asNode = RaftClient.newBuilder().setProperties(MiniCluster.testSettings().clientProperties())
        .setParameters(RaftTls.parameters(certs.identity(Role.NODE, leader.nodeId())))
        .setRetryPolicy(RetryPolicies.noRetry()).setRaftGroup(RaftGroup.valueOf(group, peer)).build()) {
      assertThat(asNode.getGroupManagementApi(peer.getId()).info(group).getGroup().getGroupId()).isEqualTo(group);
    }
    assertThat(leader.division(1)).isPresent();
    assertThat(cluster.conf(1).voterIds()).containsExactlyInAnyOrder(1L, 2L, 3L);
  }

  private static TopologyChange removeNode3() {
    return TopologyChange.newBuilder().setEvict(EvictNode.newBuilder().setNodeId(3)).build();
  }
}
