package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.node.Node;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.ControlPromotionRequest;
import io.joinflow.proto.v1.GetPromotionRequest;
import io.joinflow.proto.v1.GroupPromotion;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.Role;
import io.joinflow.proto.v1.LeaveRequest;
import io.joinflow.proto.v1.LeaveResponse;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.PutRequest;
import com.google.protobuf.ByteString;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.PromotionAction;
import io.joinflow.proto.v1.PromotionProgress;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.PromoteOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * Promotion and leave through the real stack in one process (embedded Temporal, worker,
 * gateway, real nodes). The stabilization window is a minute, so every promotion that finishes
 * sooner was released by PROMOTE_NOW: nodes 2 and 3 are released as soon as the cluster runs.
 * The tests build on each other in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PromoteLeaveIT {
  private static final int GROUPS = 4;
  private static final long WINDOW_MS = 60_000;
  private static FaultyDevCluster cluster;
  private static Path dir;
  private static GatewayCallers callers;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("joinflow-promote-it");
    cluster = FaultyDevCluster.start(new DevCluster.Settings(3, GROUPS, Ports.freeBase(60), dir,
        new JoinOptions(20_000, 16)).withPromoteOptions(new PromoteOptions(WINDOW_MS, 30_000, 0, 16)),
        line -> System.out.println("[dev] " + line));
    callers = new GatewayCallers(cluster);
    control(2, PromotionAction.PROMOTE_NOW);
    control(3, PromotionAction.PROMOTE_NOW);
  }

  @AfterAll
  static void stop() {
    if (callers != null) {
      callers.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    DevCluster.deleteRecursively(dir);
  }

  /** The gateway as the operator, who controls promotions and leaves. */
  private static JoinServiceGrpc.JoinServiceBlockingStub gateway() {
    return callers.asOperator();
  }

  private static PromotionProgress control(long node, PromotionAction action) {
    return gateway().controlPromotion(ControlPromotionRequest.newBuilder().setNodeId(node).setAction(action).build());
  }

  private static PromotionProgress promotion(long node) {
    return gateway().getPromotion(GetPromotionRequest.newBuilder().setNodeId(node).build());
  }

  private static NodeRecord nodeRecord(ClusterView view, long id) {
    return view.getNodesList().stream().filter(n -> n.getNodeId() == id).findFirst().orElse(null);
  }

  private static void awaitVoterEverywhere(long id, Duration within) {
    await().atMost(within).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      ClusterView view = cluster.view();
      assertThat(view.getGroupsList()).allSatisfy(g -> {
        assertThat(g.getVotersList()).as("voters of group %d", g.getGroupId()).contains(id);
        assertThat(g.getLearnersList()).doesNotContain(id);
      });
      assertThat(nodeRecord(view, id).getState()).isEqualTo(NodeState.ACTIVE);
      assertThat(view.getRoutingList()).allSatisfy(r -> assertThat(r.getVotersList()).contains(id));
    });
  }

  @Test
  @Order(1)
  void shouldPromoteJoinedNodesToVotersOfEveryGroup() {
    long t0 = System.nanoTime();
    awaitVoterEverywhere(2, Duration.ofSeconds(30));
    awaitVoterEverywhere(3, Duration.ofSeconds(30));
    System.out.println("nodes 2 and 3 voters everywhere after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
        + " ms more");
    PromotionProgress p = promotion(2);
    assertThat(p.getDone()).isTrue();
    assertThat(p.getPhase()).isEqualTo("done");
    assertThat(p.getWorkflowId()).startsWith("promote/").endsWith("/2");
    assertThat(p.getGroupsList()).hasSize(GROUPS + 1).extracting(GroupPromotion::getState).containsOnly("voter");
  }

  @Test
  @Order(2)
  void shouldHoldPausedPromotionAndPromoteAtOnceOnResumeAfterPromoteNow() throws Exception {
    Node four = cluster.startNode(4, false);
    JoinResponse joined = cluster.join(four, line -> { });
    assertThat(joined.getSuccess()).as(joined.getError()).isTrue();
    assertThat(joined.getGroupsList()).allSatisfy(g -> assertThat(g.getLearnersList()).contains(4L));
    long t0 = System.nanoTime();

    PromotionProgress paused = control(4, PromotionAction.PAUSE);
    assertThat(paused.getPaused()).isTrue();
    control(4, PromotionAction.PROMOTE_NOW);
    // Every group caught up and its window was skipped, but nothing is promoted while paused.
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(promotion(4).getGroupsList())
        .hasSize(GROUPS + 1).extracting(GroupPromotion::getState).containsOnly("stabilizing"));
    PromotionProgress held = promotion(4);
    assertThat(held.getPaused()).isTrue();
    assertThat(held.getPromoteNow()).isTrue();
    assertThat(cluster.view().getGroupsList()).allSatisfy(g -> assertThat(g.getVotersList()).doesNotContain(4L));

    control(4, PromotionAction.RESUME);
    awaitVoterEverywhere(4, Duration.ofSeconds(20));
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("well inside the window").isLessThan(WINDOW_MS);
    await().atMost(Duration.ofSeconds(10)).until(() -> promotion(4).getDone());
    assertThat(promotion(4).getPhase()).isEqualTo("done");
  }

  @Test
  @Order(3)
  void shouldRestartALearnerWithItsRoleIntact() throws Exception {
    Node five = cluster.startNode(5, false);
    JoinResponse joined = cluster.join(five, line -> { });
    assertThat(joined.getSuccess()).as(joined.getError()).isTrue();
    control(5, PromotionAction.PAUSE);

    cluster.stopNode(five);
    Node again = cluster.restartNode(5);

    assertThat(again.identity().clusterId()).isEqualTo(joined.getClusterId());
    assertThat(JoiningNode.join(again, List.of(cluster.gatewayAddress().toString()), Duration.ofSeconds(30),
        line -> { })).as("a node of the cluster does not join again").isNull();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(again.hostedGroups()).hasSize(GROUPS + 1);
      ClusterView view = cluster.view();
      assertThat(view.getGroupsList()).allSatisfy(g -> {
        assertThat(g.getLearnersList()).contains(5L);
        assertThat(g.getVotersList()).doesNotContain(5L);
      });
      assertThat(nodeRecord(view, 5).getState()).isEqualTo(NodeState.LEARNER);
    });
    // The promotion outlived the restart: releasing it now makes the node a voter.
    control(5, PromotionAction.RESUME);
    control(5, PromotionAction.PROMOTE_NOW);
    awaitVoterEverywhere(5, Duration.ofSeconds(30));
  }

  @Test
  @Order(4)
  void shouldRestartAPromotedVoterWithItsRoleIntact() throws Exception {
    Node three = cluster.nodes().stream().filter(n -> n.nodeId() == 3).findFirst().orElseThrow();
    cluster.stopNode(three);
    Node again = cluster.restartNode(3);

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(again.hostedGroups()).hasSize(GROUPS + 1);
      for (int g = 0; g <= GROUPS; g++) {
        assertThat(again.division(g)).isPresent();
        assertThat(again.division(g).get().getRaftConf().getPeer(again.self().getId(),
            org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER)).isNotNull();
      }
    });
    awaitVoterEverywhere(3, Duration.ofSeconds(10));
  }

  @Test
  @Order(5)
  void shouldLeaveVoterKeepingEveryGroupAvailableAndRemoveItEverywhere() throws Exception {
    Node four = cluster.nodes().stream().filter(n -> n.nodeId() == 4).findFirst().orElseThrow();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));

    long t0 = System.nanoTime();
    int exit = cli.execute("leave", "--gateway", cluster.gatewayAddress().toString(), "--node-id", "4",
        "--certs-dir", cluster.certsDir().toString(), "--json");
    System.out.println("leave of a voter of " + (GROUPS + 1) + " groups: "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms: " + out.toString().strip());

    assertThat(exit).as(err.toString()).isZero();
    assertThat(out.toString()).contains("\"success\":true").contains("leave/");
    ClusterView view = cluster.view();
    for (GroupView g : view.getGroupsList()) {
      assertThat(g.getLeader()).as("group %d has a leader", g.getGroupId()).isNotZero().isNotEqualTo(4L);
      assertThat(g.getVotersList()).doesNotContain(4L).contains(1L, 2L, 3L, 5L);
      assertThat(g.getLearnersList()).doesNotContain(4L);
      assertThat(view.getRouting(g.getGroupId()).getVotersList()).doesNotContain(4L);
    }
    assertThat(nodeRecord(view, 4).getState()).isEqualTo(NodeState.DECOMMISSIONED);
    await().atMost(Duration.ofSeconds(10)).until(() -> four.hostedGroups().isEmpty());
    // Every data group still takes writes.
    Node one = cluster.nodes().stream().filter(n -> n.nodeId() == 1).findFirst().orElseThrow();
    ManagedChannel admin = cluster.channels(Role.CLIENT).channel("127.0.0.1", one.adminPort());
    try {
      java.util.Set<Integer> written = new java.util.TreeSet<>();
      for (int i = 0; i < 64 && written.size() < GROUPS; i++) {
        written.add(io.joinflow.proto.v1.DataGrpc.newBlockingStub(admin).withDeadlineAfter(10, TimeUnit.SECONDS)
            .put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("key-" + i))
                .setValue(ByteString.copyFromUtf8("v")).build()).getGroupId());
      }
      assertThat(written).hasSize(GROUPS);
    } finally {
      admin.shutdownNow();
    }
    LeaveResponse again = gateway().leave(LeaveRequest.newBuilder().setNodeId(4).build());
    assertThat(again.getSuccess()).isTrue();
    assertThat(again.getAlreadyLeft()).isTrue();
  }

  @Test
  @Order(6)
  void shouldNotRejoinADecommissionedNodeThatRestarts() throws Exception {
    Node four = cluster.nodes().stream().filter(n -> n.nodeId() == 4).findFirst().orElseThrow();
    cluster.stopNode(four);
    Node again = cluster.restartNode(4);

    assertThat(JoiningNode.join(again, List.of(cluster.gatewayAddress().toString()), Duration.ofSeconds(30),
        line -> { })).isNull();
    assertThat(again.hostedGroups()).isEmpty();
    ClusterView view = cluster.view();
    assertThat(nodeRecord(view, 4).getState()).isEqualTo(NodeState.DECOMMISSIONED);
    assertThat(view.getGroupsList()).allSatisfy(g -> {
      assertThat(g.getVotersList()).doesNotContain(4L);
      assertThat(g.getLearnersList()).doesNotContain(4L);
    });
  }

  @Test
  @Order(7)
  void shouldRefuseLeaveThatWouldBreakQuorumAndChangeNothing() throws Exception {
    // Voters are 1, 2, 3, 5: node 5 leaves (4 -> 3 voters is fine). Then with node 3 down every
    // group still has a quorum of {1, 2, 3}, but removing 2 would leave {1, 3}, one reachable.
    LeaveResponse five = gateway().leave(LeaveRequest.newBuilder().setNodeId(5).build());
    assertThat(five.getSuccess()).as(five.getError()).isTrue();
    Node three = cluster.nodes().stream().filter(n -> n.nodeId() == 3).findFirst().orElseThrow();
    ClusterView before = cluster.view();
    assertThat(before.getGroupsList()).allSatisfy(g -> assertThat(g.getVotersList())
        .containsExactlyInAnyOrder(1L, 2L, 3L));
    cluster.stopNode(three);

    assertThatThrownBy(() -> gateway().leave(LeaveRequest.newBuilder().setNodeId(2).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains("removing node 2 from group").contains("quorum");
        });
    cluster.restartNode(3);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      ClusterView after = cluster.view();
      assertThat(nodeRecord(after, 2).getState()).isEqualTo(NodeState.ACTIVE);
      assertThat(after.getGroupsList()).allSatisfy(g -> {
        assertThat(g.getLeader()).isNotZero();
        assertThat(g.getVotersList()).containsExactlyInAnyOrderElementsOf(
            before.getGroups(g.getGroupId()).getVotersList());
      });
    });
  }
}
