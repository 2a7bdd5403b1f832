package io.joinflow.node;

import static io.joinflow.node.MembershipIT.change;
import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.NodeState;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two learners added to the same group at the same time, through different nodes. Ratis 3.3.0's
 * {@code Mode.ADD} would keep only the second listener; compare-and-set keeps both.
 */
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
}
