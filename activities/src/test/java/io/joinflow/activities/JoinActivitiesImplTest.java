package io.joinflow.activities;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.joinflow.proto.ClusterViewFacts;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.JoinAddress;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.workflows.ClusterSnapshot;
import io.joinflow.workflows.JoinActivities.ValidateInput;
import io.joinflow.workflows.JoinFailures;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the activities decide without asking the cluster. */
class JoinActivitiesImplTest {
  // Nothing listens here: every check below must reject before any call is made.
  private final NodeAdminPool pool = new NodeAdminPool(List.of("127.0.0.1:1"));
  private final JoinActivitiesImpl activities = new JoinActivitiesImpl(pool);

  @AfterEach
  void tearDown() {
    pool.close();
  }

  private ApplicationFailure validateFails(long nodeId, String addr, int wireVersion) {
    return catchThrowableOfType(ApplicationFailure.class,
        () -> activities.validate(new ValidateInput(nodeId, addr, wireVersion, 42)));
  }

  @Test
  void shouldRejectZeroNodeId() {
    ApplicationFailure f = validateFails(0, "127.0.0.1:7100", 1);

    assertThat(f.getType()).isEqualTo(JoinFailures.INVALID_ARGUMENT);
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).isEqualTo("node_id must be non-zero");
  }

  @Test
  void shouldRejectMalformedAddressInNodeDbsWords() {
    ApplicationFailure f = validateFails(4, "localhost", 1);

    assertThat(f.getType()).isEqualTo(JoinFailures.INVALID_ARGUMENT);
    assertThat(f.getOriginalMessage()).isEqualTo("invalid listen_addr 'localhost': 'localhost' is not host:port");
  }

  @Test
  void shouldRejectWildcardAddresses() {
    for (String addr : List.of("0.0.0.0:7100", "[::]:7100", "[0:0:0:0:0:0:0:0]:7100")) {
      ApplicationFailure f = validateFails(4, addr, 1);
      assertThat(f.getType()).as(addr).isEqualTo(JoinFailures.INVALID_ARGUMENT);
      assertThat(f.getOriginalMessage()).as(addr).startsWith("invalid listen_addr '" + addr + "': ");
    }
    assertThat(JoinAddress.isWildcard("::1")).isFalse();
    assertThat(JoinAddress.isWildcard("10.0.0.0")).isFalse();
  }

  @Test
  void shouldRejectHostsThatDoNotResolveOrResolveToTheWildcard() {
    ApplicationFailure unknown = validateFails(4, "no-such-host.invalid:7100", 1);
    assertThat(unknown.getType()).isEqualTo(JoinFailures.INVALID_ARGUMENT);
    assertThat(unknown.isNonRetryable()).isTrue();
    assertThat(unknown.getOriginalMessage()).isEqualTo("invalid listen_addr 'no-such-host.invalid:7100': host"
        + " no-such-host.invalid cannot be resolved; give a host name or IP address the cluster's nodes can resolve");

    ApplicationFailure zero = validateFails(4, "0:7100", 1);
    assertThat(zero.getType()).isEqualTo(JoinFailures.INVALID_ARGUMENT);
    assertThat(zero.getOriginalMessage()).isEqualTo("invalid listen_addr '0:7100': 0 is 0.0.0.0, which means every"
        + " interface and other nodes cannot dial; give an address they can reach");

    // Loopback and literal addresses resolve without asking anyone.
    ListenAddresses.checkResolvable(HostPort.parse("127.0.0.1:7100"));
    ListenAddresses.checkResolvable(HostPort.parse("[::1]:7100"));
  }

  private static NodeRecord registered(NodeState state) {
    return NodeRecord.newBuilder().setNodeId(4).setAddr("h4:1").setState(state).setIncarnation("old").build();
  }

  private static ApplicationFailure reincarnationFails(ClusterView view, NodeRecord existing) {
    return catchThrowableOfType(ApplicationFailure.class,
        () -> JoinValidation.checkReincarnation(view, existing, "h4:1", "new"));
  }

  @Test
  void shouldRefuseANodeThatLostItsDiskWhileItsOldSelfHoldsAVote() {
    ClusterView view = VIEW.toBuilder().setGroups(1, group(1, 1, List.of(1L, 4L), List.of())).build();

    ApplicationFailure f = reincarnationFails(view, registered(NodeState.ACTIVE));

    assertThat(f.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).isEqualTo("node 4 at h4:1 lost its data: it joined as incarnation old but now"
        + " answers as new, and the old node is still a voter of group 1; giving that vote to a node with an empty"
        + " log would risk the groups' committed data; remove the old node first with joinflow leave 4, then join"
        + " again");
  }

  @Test
  void shouldRefuseANodeThatLostItsDiskWhileItsOldSelfIsALearnerOrStillJoining() {
    ApplicationFailure learner = reincarnationFails(VIEW, registered(NodeState.LEARNER));
    assertThat(learner.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(learner.getOriginalMessage()).contains("the old node is still a learner of groups 0, 1;")
        .endsWith("remove the old node first with joinflow leave 4, then join again");

    ApplicationFailure joining = reincarnationFails(VIEW, registered(NodeState.JOINING));
    assertThat(joining.getOriginalMessage()).endsWith("let the old node's join finish or compensate (see joinflow"
        + " joins), decommission it with joinflow leave 4 if it joined, then join again");

    ClusterView nowhere = VIEW.toBuilder().setGroups(0, group(0, 1, List.of(1L), List.of()))
        .setGroups(1, group(1, 1, List.of(1L), List.of())).build();
    ApplicationFailure listed = reincarnationFails(nowhere, registered(NodeState.LEARNER));
    assertThat(listed.getOriginalMessage()).contains("the old node is still LEARNER in the topology;");
  }

  @Test
  void shouldLetANodeThatLostItsDiskJoinOnceItsOldSelfWasDecommissioned() {
    ClusterView nowhere = VIEW.toBuilder().setGroups(0, group(0, 1, List.of(1L), List.of()))
        .setGroups(1, group(1, 1, List.of(1L), List.of())).build();

    JoinValidation.checkReincarnation(nowhere, registered(NodeState.DECOMMISSIONED), "h4:1", "new");

    // Decommissioned but still in a configuration (a leave that did not finish): refused.
    assertThat(reincarnationFails(VIEW, registered(NodeState.DECOMMISSIONED)).getOriginalMessage())
        .contains("still a learner of groups 0, 1");
  }

  @Test
  void shouldNameNodeIdsAbove2To63Unsigned() {
    ApplicationFailure f = catchThrowableOfType(ApplicationFailure.class, () -> JoinValidation.checkReincarnation(
        VIEW, registered(NodeState.LEARNER).toBuilder().setNodeId(-1L).build(), "h4:1", "new"));
    assertThat(f.getOriginalMessage()).startsWith("node 18446744073709551615 at h4:1 lost its data")
        .endsWith("joinflow leave 18446744073709551615, then join again");
  }

  @Test
  void shouldRejectAnotherWireVersion() {
    ApplicationFailure f = validateFails(4, "127.0.0.1:7100", 2);

    assertThat(f.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(f.getOriginalMessage()).isEqualTo("unsupported wire_version 2; this cluster speaks 1");
  }

  @Test
  void shouldReportAnUnreachableClusterAsRetryable() {
    ApplicationFailure f = validateFails(4, "127.0.0.1:7100", 1);

    assertThat(f.getType()).isEqualTo(JoinFailures.UNAVAILABLE);
    assertThat(f.isNonRetryable()).isFalse();
  }

  private static GroupView group(int id, long leader, List<Long> voters, List<Long> learners) {
    return GroupView.newBuilder().setGroupId(id).setLeader(leader).addAllVoters(voters).addAllLearners(learners).build();
  }

  private static GroupRoute route(int id, List<Long> voters, List<Long> learners) {
    return GroupRoute.newBuilder().setGroupId(id).addAllVoters(voters).addAllLearners(learners).build();
  }

  private static final ClusterView VIEW = ClusterView.newBuilder()
      .setClusterId(42).setTopologyVersion(9).setDataGroups(2)
      .addNodes(NodeRecord.newBuilder().setNodeId(1).setAddr("h1:1").setState(NodeState.ACTIVE).setWireVersion(1))
      .addNodes(NodeRecord.newBuilder().setNodeId(4).setAddr("h4:1").setState(NodeState.JOINING).setWireVersion(1))
      .addGroups(group(0, 1, List.of(1L), List.of(4L)))
      .addGroups(group(1, 1, List.of(1L), List.of(4L)))
      .addGroups(group(2, 1, List.of(1L), List.of()))
      .addRouting(route(0, List.of(1L), List.of(4L)))
      .addRouting(route(1, List.of(1L), List.of()))
      .addRouting(route(2, List.of(1L), List.of()))
      .build();

  @Test
  void shouldListTheGroupsANodeIsMissingFrom() {
    assertThat(ClusterViewFacts.missingGroups(VIEW, 4)).containsExactly(2);
    assertThat(ClusterViewFacts.missingGroups(VIEW, 1)).isEmpty();
    assertThat(ClusterViewFacts.missingGroups(VIEW, 7)).containsExactly(0, 1, 2);
  }

  @Test
  void shouldFindRoutesThatDifferFromLiveConfigurations() {
    assertThat(ClusterViews.staleRoutes(VIEW)).containsExactly(1);
  }

  @Test
  void shouldDescribeNodesWithTheGroupsTheirConfigurationsList() {
    ClusterSnapshot s = ClusterViews.snapshot(VIEW);

    assertThat(s.clusterId()).isEqualTo(42);
    assertThat(s.topologyVersion()).isEqualTo(9);
    assertThat(s.dataGroups()).isEqualTo(2);
    assertThat(s.nodes()).containsExactly(
        new ClusterSnapshot.NodeInfo(1, "h1:1", "ACTIVE", List.of(0, 1, 2), 1),
        new ClusterSnapshot.NodeInfo(4, "h4:1", "JOINING", List.of(0, 1), 1));
    assertThat(s.groups()).hasSize(3);
    assertThat(s.groups().get(0)).isEqualTo(new ClusterSnapshot.GroupInfo(0, 1, List.of(1L), List.of(4L)));
  }
}
