package io.joinflow.node;

import static io.joinflow.node.MembershipIT.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.joinflow.node.membership.Conf;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.proto.v1.ChangeMembershipResponse;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.NodeState;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A group's leader dies while a learner is being added: the change completes on the new leader
 * (or was already committed and is reported as success), never as an error.
 */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LeaderFailoverIT extends MiniClusterTest {

  @Test
  void shouldFinishAddLearnerWhenLeaderDiesBeforeOrAfterItsCommit() throws Exception {
    cluster = new MiniCluster(MiniCluster.tempDir("failover"), 2, MiniCluster.testSettings()).startVoters(3);
    cluster.startNode(4, false);
    cluster.register(4, NodeState.JOINING);
    RaftPeerId learner = cluster.node(4).self().getId();

    // Group 1: kill the leader as soon as the learner hosts its division (the CAS is next).
    killLeaderWhile(1, () -> cluster.node(4).hostedGroups().contains(1));
    // Group 2: kill the leader once the new conf is in its log (committed or about to be):
    // the client sees a failure or a leader change, yet the change must report success.
    killLeaderWhile(2, () -> {
      long leader = cluster.leaderOf(2);
      return leader != 0 && cluster.division(leader, 2).getRaftConf().getAllPeers(RaftPeerRole.LISTENER).stream()
          .anyMatch(p -> p.getId().equals(learner));
    });

    for (int g = 1; g <= 2; g++) {
      Conf conf = cluster.conf(g);
      assertThat(conf.listenerIds()).as("group %d learners", g).containsExactly(4L);
      assertThat(conf.voterIds()).containsExactlyInAnyOrder(1L, 2L, 3L);
    }
  }

  private void killLeaderWhile(int group, java.util.concurrent.Callable<Boolean> changeInFlight) throws Exception {
    long leader = cluster.leaderOf(group);
    await().atMost(Duration.ofSeconds(10)).until(() -> cluster.leaderOf(group) != 0);
    leader = cluster.leaderOf(group);
    long via = leader == 1 ? 2 : 1;
    long started = System.nanoTime();
    CompletableFuture<ChangeMembershipResponse> change = CompletableFuture.supplyAsync(
        () -> cluster.admin(via).changeMembership(change(group, 4, MembershipChange.ADD_LEARNER)));
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(2)).until(changeInFlight);
    long killedAt = System.nanoTime();
    CompletableFuture<Void> stopped = cluster.stopNodeAsync(leader);

    ChangeMembershipResponse r = change.get(60, TimeUnit.SECONDS);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    System.out.printf("group %d: add learner with leader %d killed took %d ms, %d attempt(s)%n",
        group, leader, ms, r.getAttempts());
    assertThat(r.getLearnersList()).contains(4L);
    long killed = leader;
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10))
        .until(() -> cluster.leaderOf(group) != 0 && cluster.leaderOf(group) != killed);
    System.out.printf("group %d: new leader %d elected %d ms after node %d was stopped%n", group,
        cluster.leaderOf(group), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt), killed);

    // Bring the old leader back so the next scenario again has three live voters.
    stopped.join();
    cluster.startNode(killed, killed == 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> cluster.node(killed).division(group)
        .map(d -> d.getInfo().getLeaderId() != null).orElse(false));
  }
}
