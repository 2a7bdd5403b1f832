package io.joinflow.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.node.raft.MetadataApplier;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.ChangeMembershipResponse;
import io.joinflow.proto.v1.GetRequest;
import io.joinflow.proto.v1.GetResponse;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.LearnerProgressRequest;
import io.joinflow.proto.v1.LearnerProgressResponse;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.PutJoinRecord;
import io.joinflow.proto.v1.PutRequest;
import io.joinflow.proto.v1.ReadConsistency;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Learner add (log replay and snapshot install), promote and remove on real nodes. */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MembershipIT extends MiniClusterTest {
  private static final int GROUPS = 4;

  @Test
  void shouldAddLearnerWithReplayedDataThenPromoteThenRemove() {
    cluster = new MiniCluster(MiniCluster.tempDir("membership"), GROUPS, MiniCluster.testSettings()).startVoters(3);
    writeKeys(1, 40);
    cluster.startNode(4, false);
    cluster.register(4, NodeState.JOINING);

    // Ask node 2, which need not lead anything: it routes to each group's leader itself (W2).
    long t0 = System.nanoTime();
    for (int g : cluster.groups()) {
      ChangeMembershipResponse r = cluster.admin(2).changeMembership(change(g, 4, MembershipChange.ADD_LEARNER));
      assertThat(r.getChanged()).isTrue();
      assertThat(r.getLearnersList()).containsExactly(4L);
      assertThat(r.getVotersList()).containsExactlyInAnyOrder(1L, 2L, 3L);
    }
    long addMs = (System.nanoTime() - t0) / 1_000_000;
    awaitCaughtUp(4);
    assertKeysReadableLocally(4, 40);

    // Repeating the change is success without a new configuration.
    ChangeMembershipResponse again = cluster.admin(3).changeMembership(change(1, 4, MembershipChange.ADD_LEARNER));
    assertThat(again.getChanged()).isFalse();

    long t1 = System.nanoTime();
    for (int g : cluster.groups()) {
      ChangeMembershipResponse r = cluster.admin(1).changeMembership(change(g, 4, MembershipChange.PROMOTE));
      assertThat(r.getVotersList()).containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
      assertThat(r.getLearnersList()).isEmpty();
      // Done means node 4 itself votes: a listener that has not heard of its promotion fails
      // vote requests, so a leader lost right after would leave the group without a quorum.
      assertThat(cluster.division(4, g).getInfo().getCurrentRole()).as("node 4's role in group %d", g)
          .isIn(RaftPeerRole.FOLLOWER, RaftPeerRole.LEADER);
    }
    long promoteMs = (System.nanoTime() - t1) / 1_000_000;
    System.out.printf("sequential over %d groups: add learner %d ms/group, promote %d ms/group%n",
        cluster.groups().size(), addMs / cluster.groups().size(), promoteMs / cluster.groups().size());
    for (int g : cluster.groups()) {
      ChangeMembershipResponse r = cluster.admin(2).changeMembership(change(g, 4, MembershipChange.REMOVE));
      assertThat(r.getVotersList()).containsExactlyInAnyOrder(1L, 2L, 3L);
      assertThat(r.getLearnersList()).isEmpty();
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> cluster.node(4).hostedGroups().isEmpty());
  }

  @Test
  void shouldCatchUpBySnapshotInstallAfterLogWasPurged() {
    // Small segments and frequent snapshots so the leaders purge the log the learner needs.
    cluster = new MiniCluster(MiniCluster.tempDir("snapshot"), 2,
        MiniCluster.testSettings().withLog(64, 8 << 10)).startVoters(3);
    writeKeys(1, 400);
    for (int i = 0; i < 300; i++) {
      cluster.propose(MetadataCommand.newBuilder().setPutJoinRecord(PutJoinRecord.newBuilder()
          .setRecord(JoinRecord.newBuilder().setNodeId(100 + i).setPhase("done").setOutcome("succeeded"))).build());
    }
    for (int g : cluster.groups()) {
      long leader = cluster.leaderOf(g);
      await("group " + g + " purges its log").atMost(Duration.ofSeconds(20))
          .until(() -> cluster.division(leader, g).getRaftLog().getStartIndex() > 1);
    }

    cluster.startNode(4, false);
    cluster.register(4, NodeState.JOINING);
    for (int g : cluster.groups()) {
      cluster.admin(3).changeMembership(change(g, 4, MembershipChange.ADD_LEARNER));
    }
    awaitCaughtUp(4);
    assertKeysReadableLocally(4, 400);
    for (int g : cluster.groups()) {
      // The learner's log starts after index 1: its early state came from an installed snapshot.
      assertThat(cluster.division(4, g).getRaftLog().getStartIndex()).as("group %d log start", g).isGreaterThan(1);
    }
    // The 300 records are of nodes not in the topology: group 0 keeps the newest of them only.
    assertThat(cluster.node(4).catalog().metadata().state().getJoinsList())
        .hasSize(MetadataApplier.MAX_DEAD_JOINS)
        .isEqualTo(cluster.metadata().getJoinsList());
    assertThat(cluster.node(4).catalog().metadata().state().getClusterId())
        .isEqualTo(cluster.metadata().getClusterId());
  }

  @Test
  void shouldAnswerAWaitingProgressCallWhenTheLearnerReachesTheTarget() throws Exception {
    cluster = new MiniCluster(MiniCluster.tempDir("progress-wait"), 2, MiniCluster.testSettings()).startVoters(3);
    cluster.startNode(4, false);
    cluster.register(4, NodeState.JOINING);
    cluster.admin(2).changeMembership(change(1, 4, MembershipChange.ADD_LEARNER));
    awaitCaughtUp(4, 1);
    long now = cluster.admin(1).learnerProgress(progress(1, 4, 0, 0)).getTargetIndex();

    // Waits on the node until writes to group 1 carry the learner past the target.
    long target = now + 3;
    CompletableFuture<LearnerProgressResponse> waiting = CompletableFuture.supplyAsync(
        () -> cluster.admin(2).learnerProgress(progress(1, 4, target, 10_000)));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (int i = 0; !waiting.isDone(); i++) {
      assertThat(System.nanoTime()).as("waiting call answered within 30 s").isLessThan(deadline);
      cluster.data(1).put(PutRequest.newBuilder().setKey(key(i)).setValue(ByteString.copyFromUtf8("v")).build());
    }
    LearnerProgressResponse reached = waiting.get();
    assertThat(reached.getCaughtUp()).isTrue();
    assertThat(reached.getTargetIndex()).isEqualTo(target);
    // Caught up means the learner's log holds the target, as the leader's match index or its own
    // applied index shows; applied may trail matched by one AppendEntries.
    assertThat(Math.max(reached.getAppliedIndex(), reached.getMatchedIndex())).isGreaterThanOrEqualTo(target);

    // A target nobody writes up to: the call waits the whole time and answers not caught up.
    long t0 = System.nanoTime();
    LearnerProgressResponse short_ = cluster.admin(3).learnerProgress(progress(1, 4, target + 1_000_000, 300));
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isGreaterThanOrEqualTo(300);
    assertThat(short_.getCaughtUp()).isFalse();
    assertThat(short_.getInConf()).isTrue();
    assertThat(short_.getTargetIndex()).isEqualTo(target + 1_000_000);

    // Not a member of group 2: answered at once, whatever the wait.
    assertThat(cluster.admin(1).learnerProgress(progress(2, 4, 0, 10_000)).getInConf()).isFalse();

    assertThatThrownBy(() -> cluster.admin(1).learnerProgress(progress(1, 4, 0, 10_001)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription())
              .isEqualTo("wait_millis 10001 is too long; wait at most 10000 ms per call and call again");
        });
  }

  private static LearnerProgressRequest progress(int group, long node, long target, int waitMillis) {
    return LearnerProgressRequest.newBuilder().setGroupId(group).setNodeId(node).setTargetIndex(target)
        .setWaitMillis(waitMillis).build();
  }

  private void awaitCaughtUp(long id, int group) {
    await().atMost(Duration.ofSeconds(30)).until(() -> cluster.admin(1).learnerProgress(
        LearnerProgressRequest.newBuilder().setGroupId(group).setNodeId(id).build()).getCaughtUp());
  }

  private void writeKeys(long via, int count) {
    for (int i = 0; i < count; i++) {
      cluster.data(via).put(PutRequest.newBuilder().setKey(key(i))
          .setValue(ByteString.copyFromUtf8("value-" + i + "-" + "x".repeat(100))).build());
    }
  }

  private void assertKeysReadableLocally(long id, int count) {
    for (int i = 0; i < count; i++) {
      GetResponse r = cluster.data(id).get(GetRequest.newBuilder().setKey(key(i))
          .setConsistency(ReadConsistency.LOCAL).build());
      assertThat(r.getFound()).as("key %d on node %d", i, id).isTrue();
      assertThat(r.getValue().toString(StandardCharsets.UTF_8)).startsWith("value-" + i + "-");
    }
  }

  private void awaitCaughtUp(long id) {
    for (int g : cluster.groups()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> cluster.admin(1).learnerProgress(
          LearnerProgressRequest.newBuilder().setGroupId(g).setNodeId(id).build()).getCaughtUp());
    }
  }

  static ByteString key(int i) {
    return ByteString.copyFromUtf8("key-" + i);
  }

  static ChangeMembershipRequest change(int group, long node, MembershipChange change) {
    return ChangeMembershipRequest.newBuilder().setGroupId(group).setNodeId(node).setChange(change).build();
  }

  static List<Long> ids(long... ids) {
    return java.util.Arrays.stream(ids).boxed().toList();
  }
}
