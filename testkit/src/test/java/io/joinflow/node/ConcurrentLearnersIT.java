package io.joinflow.node;

import static io.joinflow.node.MembershipIT.change;
import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.node.membership.ConfChanges;
import io.joinflow.node.membership.MembershipException;
import io.joinflow.node.membership.Change;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.NodeState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Learners added to the same group at the same time. Through different nodes: Ratis 3.3.0's
 * {@code Mode.ADD} would keep only the second listener; compare-and-set keeps both. Through one
 * node: the additions that wait for the group are merged into one change.
 */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConcurrentLearnersIT extends MiniClusterTest {

  @Test
  void shouldKeepBothLearnersWhenAddedConcurrently() throws Exception {
    cluster = new MiniCluster(MiniCluster.tempDir("two-learners"), 1, MiniCluster.testSettings()).startVoters(3);
    cluster.startNode(4, false);
    cluster.startNode(5, false);
    cluster.register(4, NodeState.JOINING);
    cluster.register(5, NodeState.JOINING);

    for (int g : cluster.groups()) {
      var a = CompletableFuture.supplyAsync(() -> cluster.admin(1).changeMembership(change(g, 4, MembershipChange.ADD_LEARNER)));
      var b = CompletableFuture.supplyAsync(() -> cluster.admin(2).changeMembership(change(g, 5, MembershipChange.ADD_LEARNER)));
      a.get(60, TimeUnit.SECONDS);
      b.get(60, TimeUnit.SECONDS);
      assertThat(cluster.conf(g).listenerIds()).as("group %d", g).containsExactlyInAnyOrder(4L, 5L);
      assertThat(cluster.conf(g).voterIds()).containsExactlyInAnyOrder(1L, 2L, 3L);
    }
  }

  @Test
  void shouldMergeAdditionsWaitingForTheSameGroupAndFailOnlyTheNodeThatCannotHostIt() throws Exception {
    cluster = new MiniCluster(MiniCluster.tempDir("merged-learners"), 1, MiniCluster.testSettings()).startVoters(3);
    List<RaftPeer> learners = new ArrayList<>();
    for (long id = 4; id <= 8; id++) {
      learners.add(cluster.startNode(id, false).self());
    }
    // Node 9 is not running: nothing listens on its address.
    RaftPeer absent;
    try (ServerSocket s = new ServerSocket(0)) {
      absent = RaftPeer.newBuilder().setId(ClusterIds.peerId(9)).setAddress("127.0.0.1:" + s.getLocalPort()).build();
    }
    Node seed = cluster.node(1);
    ConfChanges ops = seed.membership().changes();
    int group = 1;
    RaftGroupId groupId = seed.groupId(group);
    var candidates = seed.candidates(cluster.metadata(), group);

    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<Change>> added = new ArrayList<>();
    for (RaftPeer learner : learners) {
      added.add(CompletableFuture.supplyAsync(() -> addAfter(go, ops, groupId, learner, candidates), POOL));
    }
    CompletableFuture<Change> refused = CompletableFuture.supplyAsync(() -> addAfter(go, ops, groupId, absent, candidates), POOL);
    go.countDown();

    Set<List<Long>> confsSeen = new HashSet<>();
    for (CompletableFuture<Change> f : added) {
      Change c = f.get(60, TimeUnit.SECONDS);
      assertThat(c.changed()).isTrue();
      confsSeen.add(c.conf().listenerIds());
    }
    assertThat(refused).failsWithin(60, TimeUnit.SECONDS);
    assertThatRefusalNamesTheNode(refused);
    assertThat(cluster.conf(group).listenerIds()).containsExactlyInAnyOrder(4L, 5L, 6L, 7L, 8L);
    // Five additions, one change each, would leave five different confs behind them. One
    // change runs while the others queue; they are made together, at most four per change.
    assertThat(confsSeen).as("listener sets committed for %d additions", learners.size()).hasSizeLessThan(learners.size());
    // Adding them again changes nothing.
    assertThat(ops.addLearner(groupId, learners.get(0), candidates).changed()).isFalse();
  }

  private static final java.util.concurrent.ExecutorService POOL = java.util.concurrent.Executors.newCachedThreadPool();

  private static Change addAfter(CountDownLatch go, ConfChanges ops, RaftGroupId groupId, RaftPeer learner,
                                 java.util.Collection<RaftPeer> candidates) {
    try {
      go.await();
      return ops.addLearner(groupId, learner, candidates);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void assertThatRefusalNamesTheNode(CompletableFuture<Change> refused) {
    try {
      refused.join();
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(UncheckedIOException.class);
      assertThat(e.getCause().getCause()).isInstanceOf(MembershipException.class)
          .hasMessageContaining("add learner " + ClusterIds.peerId(9))
          .hasMessageContaining("cannot host the group");
    }
  }
}
