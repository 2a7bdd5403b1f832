package io.joinflow.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.workflows.MembershipActivities.GroupRole;
import io.joinflow.workflows.MembershipActivities.MemberState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The membership a join hands its promotion: what describeMember would read from the same view. */
class PromoteInputTest {
  private static final ClusterSnapshot.NodeInfo NODE_4 =
      new ClusterSnapshot.NodeInfo(4, "127.0.0.1:7540", "LEARNER", List.of(0, 1, 2), 1);

  private static ClusterSnapshot cluster(ClusterSnapshot.GroupInfo... groups) {
    return new ClusterSnapshot(42, 9, 2, List.of(NODE_4), List.of(groups));
  }

  @Test
  void shouldGiveTheNodesRoleInEveryGroup() {
    MemberState m = PromoteInput.membershipOf(cluster(
        new ClusterSnapshot.GroupInfo(0, 1, List.of(1L, 2L, 3L), List.of(4L)),
        new ClusterSnapshot.GroupInfo(1, 2, List.of(1L, 2L, 3L, 4L), List.of()),
        new ClusterSnapshot.GroupInfo(2, 3, List.of(1L, 2L, 3L), List.of())), 4);

    assertThat(m).isNotNull();
    assertThat(m.clusterId()).isEqualTo(42);
    assertThat(m.dataGroups()).isEqualTo(2);
    assertThat(m.nodeState()).isEqualTo("LEARNER");
    assertThat(m.listenAddr()).isEqualTo("127.0.0.1:7540");
    assertThat(m.groups()).extracting(GroupRole::role)
        .containsExactly(GroupRole.LEARNER, GroupRole.VOTER, GroupRole.NONE);
    assertThat(m.groups().get(1).leader()).isEqualTo(2);
    assertThat(m.groups().get(0).learners()).containsExactly(4L);
  }

  @Test
  void shouldLeaveTheReadToThePromotionWhenTheSnapshotCannotTell() {
    ClusterSnapshot.GroupInfo g0 = new ClusterSnapshot.GroupInfo(0, 1, List.of(1L), List.of(4L));
    ClusterSnapshot.GroupInfo g1 = new ClusterSnapshot.GroupInfo(1, 1, List.of(1L), List.of(4L));
    ClusterSnapshot.GroupInfo leaderless = new ClusterSnapshot.GroupInfo(2, 0, List.of(1L), List.of(4L));

    assertThat(PromoteInput.membershipOf(cluster(g0, g1), 4)).as("group 2 missing").isNull();
    assertThat(PromoteInput.membershipOf(cluster(g0, g1, leaderless), 4)).as("group 2 without a leader").isNull();
    assertThat(PromoteInput.membershipOf(cluster(g0, g1, new ClusterSnapshot.GroupInfo(2, 1, List.of(1L), List.of())), 5))
        .as("node not listed").isNull();
    assertThat(PromoteInput.membershipOf(ClusterSnapshot.empty(), 4)).isNull();
    assertThat(PromoteInput.membershipOf(null, 4)).isNull();
  }
}
