package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.node.Node;
import io.joinflow.node.raft.RaftSettings;
import io.joinflow.node.raft.RaftTls;
import io.joinflow.node.testing.ReflectionProbe;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.ListJoinsRequest;
import io.joinflow.proto.v1.NodeAdminGrpc;
import io.joinflow.security.CertsDir;
import io.joinflow.security.Channels;
import io.joinflow.security.Role;
import io.joinflow.workflows.JoinOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A dev cluster is secure by default, on every port: a plaintext caller and a caller whose
 * certificate comes from another CA (one that even names the same cluster, {@code dev}) are
 * refused at the TLS handshake on a node's NodeAdmin port, the gateway's JoinService port and a
 * node's Ratis port, while the certificates in the directory dev names (the operator's; on the
 * Ratis port, a node's) reach the same servers.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DevSecurityIT {
  private static DevCluster cluster;
  private static Path dir;
  /** Certificates of another CA that calls its cluster "dev" too. */
  private static CertsDir foreign;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("joinflow-dev-security-it");
    cluster = DevCluster.start(new DevCluster.Settings(1, 1, Ports.freeBase(30), dir.resolve("dev"),
        JoinOptions.defaults()), line -> System.out.println("[dev] " + line));
    foreign = new CertsDir(dir.resolve("foreign"));
    foreign.createCa(DevCerts.CLUSTER);
    foreign.issue(Role.OPERATOR, 0, DevCerts.HOSTS);
    foreign.issue(Role.NODE, 1, DevCerts.HOSTS);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
    DevCluster.deleteRecursively(dir);
  }

  /** The callers the ports must refuse, by name. */
  private static Map<String, Channels> strangers() throws IOException {
    return Map.of("plaintext", Channels.plaintext(),
        "operator of another CA", Channels.tls(foreign.identity(Role.OPERATOR, 0)));
  }

  /** The operator, with the certificate from the directory dev prints. */
  private static Channels operator() throws IOException {
    return Channels.tls(new CertsDir(cluster.certsDir()).identity(Role.OPERATOR, 0));
  }

  @Test
  void shouldRunSecureByDefaultWithItsCertificatesInTheDataDir() {
    assertThat(cluster.secure()).isTrue();
    assertThat(cluster.certsDir()).isEqualTo(dir.resolve("dev").resolve("certs"));
    assertThat(cluster.nodes()).allSatisfy(n -> assertThat(n.config().secure()).isTrue());
  }

  @Test
  void shouldRefuseStrangersOnTheNodeAdminPortAndAnswerTheOperator() throws Exception {
    String target = cluster.nodes().get(0).config().listen().toString();
    for (Map.Entry<String, Channels> stranger : strangers().entrySet()) {
      assertRefused(stranger.getKey(), stranger.getValue(), target,
          ch -> NodeAdminGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
              .getClusterView(GetClusterViewRequest.getDefaultInstance()));
    }
    ManagedChannel ch = operator().channel(target);
    try {
      assertThat(NodeAdminGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .getClusterView(GetClusterViewRequest.getDefaultInstance()).getNodesList()).hasSize(1);
      // A development cluster answers reflection (production nodes do not: NodeSecurityIT).
      assertThat(ReflectionProbe.services(ch)).contains("joinflow.v1.NodeAdmin", "joinflow.v1.Data");
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void shouldRefuseStrangersOnTheJoinServicePortAndAnswerTheOperator() throws Exception {
    String target = cluster.gatewayAddress().toString();
    for (Map.Entry<String, Channels> stranger : strangers().entrySet()) {
      assertRefused(stranger.getKey(), stranger.getValue(), target,
          ch -> JoinServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
              .listJoins(ListJoinsRequest.getDefaultInstance()));
    }
    ManagedChannel ch = operator().channel(target);
    try {
      assertThat(JoinServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
          .listJoins(ListJoinsRequest.getDefaultInstance()).getSource()).isNotEmpty();
      assertThat(ReflectionProbe.services(ch)).contains("joinflow.v1.JoinService");
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void shouldRequireAJoinTokenAndJoinANodeThatHasOne() throws Exception {
    Node two = cluster.startNode(2, false);
    JoinRequest request = JoinRequest.newBuilder().setNodeId(2).setListenAddr(two.config().listen().toString())
        .setWireVersion(Node.WIRE_VERSION).setIncarnation(two.identity().incarnation()).build();
    ManagedChannel asTwo = cluster.nodeChannels(2).channel(cluster.gatewayAddress().toString());
    try {
      // Node 2's own certificate is not enough: a dev gateway wants a token, as a secure one does.
      assertThatThrownBy(() -> JoinServiceGrpc.newBlockingStub(asTwo).withDeadlineAfter(30, TimeUnit.SECONDS)
          .join(request))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.getStatus().getDescription()).contains("joinflow token create");
          });
      assertThat(cluster.view().getNodesList()).hasSize(1);
    } finally {
      asTwo.shutdownNow();
    }

    // As dev joins its own nodes: a token issued by the operator first.
    JoinResponse joined = cluster.join(two, line -> { });
    assertThat(joined.getSuccess()).as(joined.getError()).isTrue();
    assertThat(cluster.view().getNodesList()).hasSize(2);
  }

  @Test
  void shouldRefuseStrangersOnTheRatisPortAndAnswerANodeOfTheCluster() throws Exception {
    Node seed = cluster.nodes().get(0);
    RaftGroupId group = seed.groupId(1);
    RaftPeer peer = seed.self();
    // A node certificate of the other CA: the strongest stranger the Ratis port can meet.
    List<Parameters> strangers = List.of(new Parameters(), RaftTls.parameters(foreign.identity(Role.NODE, 1)));
    for (Parameters transport : strangers) {
      try (RaftClient raw = ratisClient(transport, group, peer)) {
        assertThatThrownBy(() -> raw.getGroupManagementApi(peer.getId()).remove(group, true, false))
            .isInstanceOf(IOException.class);
      }
    }
    assertThat(seed.division(1)).as("the refused removals removed nothing").isPresent();
    // Node 1's own certificate from dev's directory reaches the same server (an info call, so
    // nothing is removed): the refusals above were the transport's, not a wrong group or peer.
    try (RaftClient asNode = ratisClient(
        RaftTls.parameters(new CertsDir(cluster.certsDir()).identity(Role.NODE, seed.nodeId())), group, peer)) {
      assertThat(asNode.getGroupManagementApi(peer.getId()).info(group).getGroup().getGroupId()).isEqualTo(group);
    }
  }

  private static RaftClient ratisClient(Parameters transport, RaftGroupId group, RaftPeer peer) {
    return RaftClient.newBuilder().setProperties(RaftSettings.defaults().clientProperties())
        .setParameters(transport).setRetryPolicy(RetryPolicies.noRetry())
        .setRaftGroup(RaftGroup.valueOf(group, peer)).build();
  }

  private interface Call {
    Object run(ManagedChannel channel);
  }

  /** A call as {@code who} fails at the transport: UNAVAILABLE, the handshake never completes. */
  private static void assertRefused(String who, Channels transport, String target, Call call) {
    ManagedChannel ch = transport.channel(target);
    try {
      assertThatThrownBy(() -> call.run(ch)).as(who + " at " + target)
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    } finally {
      ch.shutdownNow();
    }
  }
}
