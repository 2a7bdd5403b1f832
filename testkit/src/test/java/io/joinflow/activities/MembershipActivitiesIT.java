package io.joinflow.activities;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.joinflow.node.Node;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.joinflow.workflows.MembershipActivities;
import io.joinflow.workflows.MembershipActivities.GroupRole;
import io.joinflow.workflows.MembershipActivities.MemberInput;
import io.joinflow.workflows.MembershipActivities.MemberStateInput;
import io.joinflow.workflows.MembershipActivities.PromoteVoterInput;
import io.joinflow.workflows.MembershipActivities.SettleInput;
import io.joinflow.workflows.MembershipActivities.SettleResult;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The membership activities against three real voters with two data groups (real Ratis,
 * RocksDB and NodeAdmin), through Temporal's activity test environment. Node 4 is added as a
 * learner by the same recipe the join uses; the tests build on each other in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MembershipActivitiesIT {
  private static final int GROUPS = 2;
  private MiniCluster cluster;
  private NodeAdminPool pool;
  private TestActivityEnvironment env;
  private MembershipActivities activities;

  @BeforeAll
  void startCluster() {
    cluster = new MiniCluster(MiniCluster.tempDir("membership"), GROUPS, MiniCluster.testSettings()).startVoters(3);
    pool = new NodeAdminPool(Stream.of(1L, 2L, 3L).map(id -> cluster.node(id).config().listen().toString()).toList());
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new MembershipActivitiesImpl(pool));
    activities = env.newActivityStub(MembershipActivities.class, ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(60))
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .build());
    cluster.startNode(4, false);
    cluster.register(4, NodeState.LEARNER);
    cluster.addLearnerEverywhere(4);
    cluster.publishRouting();
  }

  @AfterAll
  void stopCluster() {
    if (env != null) {
      env.close();
    }
    if (pool != null) {
      pool.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void shouldRespectTheVotersPerGroupLimitThenPromoteWithoutIt() {
    assertThat(activities.describeMember(new MemberInput(4)).groups()).extracting(GroupRole::role)
        .containsOnly(GroupRole.LEARNER);
    for (int g : cluster.groups()) {
      GroupStep limited = activities.promoteVoter(new PromoteVoterInput(4, g, 3));
      assertThat(limited.changed()).isFalse();
      assertThat(limited.voters()).containsExactly(1L, 2L, 3L);
      assertThat(cluster.conf(g).listenerIds()).contains(4L);
    }
    for (int g : cluster.groups()) {
      // Group 0 alone, the others after waiting in the same call (no stabilization window).
      GroupStep promoted = g == 0 ? activities.promoteVoter(new PromoteVoterInput(4, g, 0))
          : activities.catchUpAndPromote(new PromoteVoterInput(4, g, 0));
      assertThat(promoted.changed()).isTrue();
      assertThat(cluster.conf(g).voterIds()).containsExactly(1L, 2L, 3L, 4L);
      // Already a voter is success, limit or not.
      assertThat(activities.promoteVoter(new PromoteVoterInput(4, g, 3)).changed()).isFalse();
      assertThat(activities.catchUpAndPromote(new PromoteVoterInput(4, g, 3)).changed()).isFalse();
    }
    SettleResult settled = activities.settleMember(new SettleInput(
        new MemberStateInput(4, "ACTIVE", List.of("LEARNER", "ACTIVE")), cluster.node(4).config().listen().toString()));
    assertThat(state(4)).isEqualTo(NodeState.ACTIVE);
    assertThat(cluster.metadata().getRoutingList()).allSatisfy(r -> assertThat(r.getVotersList()).contains(4L));
    assertThat(settled.persisted().nodes()).filteredOn(n -> n.nodeId() == 4).singleElement()
        .satisfies(n -> assertThat(n.state()).isEqualTo("ACTIVE"));
    assertThat(settled.broadcast().version()).isEqualTo(cluster.metadata().getTopologyVersion());
    assertThat(settled.broadcast().acked()).contains(4L);
  }

  @Test
  @Order(2)
  void shouldRestartADrainingNodeWithItsRoleIntact() {
    activities.setMemberState(new MemberStateInput(4, "DRAINING", List.of("LEARNER", "ACTIVE", "DRAINING")));
    // A promotion finishing late does not undo a leave that started.
    activities.setMemberState(new MemberStateInput(4, "ACTIVE", List.of("LEARNER", "ACTIVE")));
    assertThat(state(4)).isEqualTo(NodeState.DRAINING);

    cluster.stopNode(4);
    Node again = cluster.startNode(4, false);

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(again.hostedGroups()).containsExactlyElementsOf(cluster.groups());
      for (int g : cluster.groups()) {
        assertThat(cluster.conf(g).voterIds()).contains(4L);
      }
    });
    assertThat(state(4)).isEqualTo(NodeState.DRAINING);
    assertThat(again.localMetadata().getNodesList()).filteredOn(n -> n.getNodeId() == 4)
        .extracting(NodeRecord::getState).containsExactly(NodeState.DRAINING);
  }

  @Test
  @Order(3)
  void shouldMoveLeadershipAwayRemoveEverywhereAndDecommission() {
    // The refusal when a quorum would break is covered end to end by the cli's PromoteLeaveIT
    // (it needs a group of exactly three voters with one down).
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
        assertThat(activities.planLeave(new MemberInput(4)).groups()).hasSize(GROUPS + 1));
    for (int g : cluster.groups()) {
      activities.moveLeadership(new GroupInput(4, g));
      assertThat(cluster.leaderOf(g)).isNotEqualTo(4L);
      activities.removeMember(new GroupInput(4, g));
      assertThat(cluster.conf(g).voterIds()).containsExactly(1L, 2L, 3L);
    }
    activities.setMemberState(new MemberStateInput(4, "DECOMMISSIONED", List.of("DRAINING", "DECOMMISSIONED")));
    assertThat(state(4)).isEqualTo(NodeState.DECOMMISSIONED);
    assertThat(activities.planLeave(new MemberInput(4)).alreadyLeft()).isTrue();
    await().atMost(Duration.ofSeconds(10)).until(() -> cluster.node(4).hostedGroups().isEmpty());
  }

  private NodeState state(long id) {
    return cluster.metadata().getNodesList().stream().filter(n -> n.getNodeId() == id).findFirst().orElseThrow()
        .getState();
  }
}
