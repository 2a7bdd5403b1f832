package io.joinflow.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.GetGroupRequest;
import io.joinflow.proto.v1.GetMetadataRequest;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeState;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** GetMetadata and GetGroup answer what GetClusterView answers, from any node; a bad group is NOT_FOUND. */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NarrowReadsIT extends MiniClusterTest {
  private static final int GROUPS = 2;

  @Test
  void shouldAgreeWithTheClusterViewOnEveryNodeAndRefuseGroupsTheClusterLacks() {
    cluster = new MiniCluster(MiniCluster.tempDir("narrow-reads"), GROUPS, MiniCluster.testSettings()).startVoters(3);
    // A learner everywhere, so learner lists are compared too.
    cluster.startNode(4, false);
    cluster.register(4, NodeState.JOINING);
    cluster.addLearnerEverywhere(4);

    for (long asked = 1; asked <= 4; asked++) {
      ClusterView view = cluster.admin(asked).getClusterView(GetClusterViewRequest.getDefaultInstance());
      MetadataState metadata = cluster.admin(asked).getMetadata(GetMetadataRequest.getDefaultInstance());

      assertThat(metadata.getClusterId()).as("asked node %d", asked).isEqualTo(view.getClusterId()).isNotZero();
      assertThat(metadata.getTopologyVersion()).isEqualTo(view.getTopologyVersion());
      assertThat(metadata.getDataGroups()).isEqualTo(view.getDataGroups()).isEqualTo(GROUPS);
      assertThat(metadata.getNodesList()).isEqualTo(view.getNodesList());
      assertThat(metadata.getRoutingList()).isEqualTo(view.getRoutingList());
      assertThat(metadata.getJoinsList()).isEqualTo(view.getJoinsList());

      for (GroupView inView : view.getGroupsList()) {
        GroupView one = cluster.admin(asked).getGroup(GetGroupRequest.newBuilder()
            .setGroupId(inView.getGroupId()).build());
        assertThat(one.getGroupId()).isEqualTo(inView.getGroupId());
        assertThat(one.getLeader()).as("leader of group %d", inView.getGroupId()).isEqualTo(inView.getLeader())
            .isNotZero();
        assertThat(one.getVotersList()).containsExactlyInAnyOrderElementsOf(inView.getVotersList())
            .containsExactlyInAnyOrder(1L, 2L, 3L);
        assertThat(one.getLearnersList()).containsExactlyInAnyOrderElementsOf(inView.getLearnersList())
            .containsExactly(4L);
        // Read after the view: the group can only have committed more since.
        assertThat(one.getCommitIndex()).isGreaterThanOrEqualTo(inView.getCommitIndex());
        assertThat(one.getMembersList()).extracting(m -> m.getNodeId())
            .containsExactlyInAnyOrderElementsOf(inView.getMembersList().stream().map(m -> m.getNodeId()).toList());
      }
    }

    // The activities' pool reads the same through whichever node answers.
    try (NodeAdminPool pool = new NodeAdminPool(List.of(cluster.node(2).config().listen().toString()))) {
      assertThat(pool.metadata()).isEqualTo(cluster.admin(1).getMetadata(GetMetadataRequest.getDefaultInstance()));
      assertThat(pool.group(0).getLeader()).isEqualTo(cluster.leaderOf(0));
      assertThatThrownBy(() -> pool.group(GROUPS + 1)).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    assertNotFound(GROUPS + 1, "group 3 does not exist; groups are 0..2");
    // uint32 on the wire: the largest id must not wrap into a negative group.
    assertNotFound(-1, "group 4294967295 does not exist; groups are 0..2");
  }

  private void assertNotFound(int group, String description) {
    assertThatThrownBy(() -> cluster.admin(3).getGroup(GetGroupRequest.newBuilder().setGroupId(group).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo(description);
        });
  }
}
