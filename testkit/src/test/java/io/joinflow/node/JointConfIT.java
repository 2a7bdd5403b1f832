package io.joinflow.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.joinflow.node.membership.Conf;
import io.joinflow.node.membership.MembershipException;
import io.joinflow.node.raft.RaftClients;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.proto.v1.NodeState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Configuration changes that meet each other: a promotion while learners are added to the same
 * group (what every demo did while nodes 2 and 3 were promoted and node 4 joined), and a
 * learner's removal that meets its promotion.
 *
 * <p>Pinned to Ratis 3.3.0: while a promotion commits, the group is in a joint configuration in
 * which the promoted node is a listener of the old half and a voter of the new one, and the
 * server cannot answer a group-info request ({@code IllegalStateException: Found duplicated
 * element n4 in [n1, n2, n3, n4, n4]} from {@code Division.getGroup()}). The demo's logs showed
 * it as "cluster peer unreachable: INTERNAL", retried as a network fault. The first test
 * reproduces it with Ratis' own client, then shows that joinflow's reads wait it out.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JointConfIT extends MiniClusterTest {
  private static final int GROUP = 1;
  private static final int ROUNDS = 6;

  @Test
  void shouldReadEveryGroupWhileAPromotionCommitsAndAddLearnersMeanwhile() throws Exception {
    cluster = new MiniCluster(MiniCluster.tempDir("joint-conf"), 1, MiniCluster.testSettings()).startVoters(3);
    Node via = cluster.node(1);
    RaftGroupId gid = via.groupId(GROUP);
    ExecutorService pool = Executors.newCachedThreadPool();
    RaftClients raw = new RaftClients(MiniCluster.testSettings());
    ConcurrentLinkedQueue<String> rawFailures = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> readFailures = new ConcurrentLinkedQueue<>();
    try {
      for (int round = 0; round < ROUNDS; round++) {
        long promoted = 4 + 2L * round;
        long added = promoted + 1;
        cluster.startNode(promoted, false);
        cluster.startNode(added, false);
        cluster.register(promoted, NodeState.JOINING);
        cluster.register(added, NodeState.JOINING);
        RaftPeer learner = cluster.node(promoted).self();
        via.membership().changes().addLearner(gid, learner, candidates(via));
        via.membership().watch().awaitCaughtUp(gid, learner, candidates(via), java.time.Duration.ofSeconds(30));

        AtomicBoolean promoting = new AtomicBoolean(true);
        List<CompletableFuture<Void>> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
          // Ratis' own client, asking the leader about the group as fast as it can.
          readers.add(CompletableFuture.runAsync(() -> {
            while (promoting.get()) {
              RaftPeer leader = leaderPeer(via);
              try {
                raw.forPeer(gid, leader).getGroupManagementApi(leader.getId()).info(gid);
              } catch (IOException | RuntimeException e) {
                if (String.valueOf(e.getMessage()).contains("Found duplicated element")) {
                  rawFailures.add(e.getMessage());
                }
              }
            }
          }, pool));
          // joinflow's read of the conf, the way every membership call and cluster view starts.
          readers.add(CompletableFuture.runAsync(() -> {
            while (promoting.get()) {
              try {
                via.membership().confs().readConf(gid, candidates(via));
              } catch (IOException e) {
                readFailures.add(e);
              }
            }
          }, pool));
        }
        // A learner added while the promotion is committed, through another node.
        CompletableFuture<Conf> addition = CompletableFuture.supplyAsync(() -> {
          try {
            return cluster.node(2).membership().changes()
                .addLearner(gid, cluster.node(added).self(), candidates(cluster.node(2))).conf();
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }, pool);
        via.membership().changes().promote(gid, learner.getId(), candidates(via), 0);
        Conf afterAdd = addition.get(60, TimeUnit.SECONDS);
        promoting.set(false);
        CompletableFuture.allOf(readers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

        Conf now = cluster.conf(GROUP);
        assertThat(now.voterIds()).contains(promoted);
        assertThat(now.listenerIds()).contains(added);
        assertThat(afterAdd.listenerIds()).contains(added);
        if (!rawFailures.isEmpty()) {
          break;
        }
      }
    } finally {
      raw.close();
      pool.shutdownNow();
    }
    System.out.println("[joint-conf] Ratis' group info failed " + rawFailures.size()
        + " time(s) during the promotions" + (rawFailures.isEmpty() ? "" : ": " + rawFailures.peek()));
    assertThat(rawFailures).as("Ratis 3.3.0 fails group info during a promotion's joint configuration;"
        + " if it no longer does, ConfReader's wait can go").isNotEmpty();
    assertThat(readFailures).as("joinflow's conf reads during the same promotions").isEmpty();
  }

  @Test
  void shouldRefuseToRemoveALearnerThatWasPromotedMeanwhile() throws Exception {
    cluster = new MiniCluster(MiniCluster.tempDir("remove-learner"), 1, MiniCluster.testSettings()).startVoters(3);
    Node via = cluster.node(1);
    RaftGroupId gid = via.groupId(GROUP);
    cluster.startNode(4, false);
    cluster.register(4, NodeState.JOINING);
    RaftPeer four = cluster.node(4).self();
    via.membership().changes().addLearner(gid, four, candidates(via));
    via.membership().watch().awaitCaughtUp(gid, four, candidates(via), java.time.Duration.ofSeconds(30));
    // A compensation that read "learner" before this promotion must not take the vote away.
    via.membership().changes().promote(gid, four.getId(), candidates(via), 0);

    MembershipException refused = catchThrowableOfType(MembershipException.class,
        () -> via.membership().changes().removeLearner(gid, four, candidates(via)));

    assertThat(refused).isNotNull();
    assertThat(refused.retryable()).isFalse();
    assertThat(refused).hasMessageContaining("is a voter of group 1")
        .hasMessageContaining("removing a learner never removes a voter");
    assertThat(cluster.conf(GROUP).voterIds()).containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
    assertThat(cluster.node(4).raftServer().getGroupIds()).as("its division stays").contains(gid);

    // A learner is removed, and its division dropped; doing it again changes nothing.
    cluster.startNode(5, false);
    cluster.register(5, NodeState.JOINING);
    RaftPeer five = cluster.node(5).self();
    via.membership().changes().addLearner(gid, five, candidates(via));
    assertThat(via.membership().changes().removeLearner(gid, five, candidates(via)).changed()).isTrue();
    assertThat(cluster.conf(GROUP).listenerIds()).doesNotContain(5L);
    assertThat(via.membership().changes().removeLearner(gid, five, candidates(via)).changed()).isFalse();
  }

  private java.util.Collection<RaftPeer> candidates(Node n) {
    return n.candidates(cluster.metadata(), GROUP);
  }

  private RaftPeer leaderPeer(Node via) {
    try {
      return via.membership().confs().readConf(via.groupId(GROUP), candidates(via)).leader();
    } catch (IOException e) {
      return via.self();
    }
  }
}
