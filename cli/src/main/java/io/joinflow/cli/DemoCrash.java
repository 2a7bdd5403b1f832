package io.joinflow.cli;

import io.grpc.StatusRuntimeException;
import io.joinflow.node.Node;
import io.joinflow.proto.v1.ClusterView;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What {@code joinflow demo --crash-leader-during STEP} does: wait until the cluster can lose group 0's
 * leader, kill that node from inside the join's step, and start it again afterwards.
 */
final class DemoCrash {
  private DemoCrash() {}

  /** Waits until every group's voters include {@code voters} (the background promotions). */
  static boolean awaitVoters(DevCluster cluster, java.util.List<Long> voters) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline) {
      try {
        ClusterView v = cluster.view();
        if (v.getGroupsList().stream().allMatch(g -> g.getLeader() != 0 && g.getVotersList().containsAll(voters)
            && voters.stream().allMatch(id -> votesItself(cluster, id, g.getGroupId())))) {
          return true;
        }
      } catch (io.grpc.StatusException | StatusRuntimeException e) {
        // a leader election; ask again
      }
      Thread.sleep(100);
    }
    return false;
  }

  /**
   * Whether the node's own division of the group acts as a voter. The leader counts a promotion
   * as done once a majority of the new voters holds it, which may not include the promoted node:
   * until that node hears of it, it is still a listener that does not vote, and if the leader
   * dies then, the group has one voter left that can vote and elects no one (seen once, with
   * group 0 killed 140 ms after node 3's promotion in it).
   */
  private static boolean votesItself(DevCluster cluster, long nodeId, int group) {
    return cluster.nodes().stream().filter(n -> n.nodeId() == nodeId).findFirst()
        .flatMap(n -> n.division(group))
        .map(d -> d.getInfo().isFollower() || d.getInfo().isLeader())
        .orElse(false);
  }

  /** Kills group 0's leader from inside the join's step (a {@link StepStartHook} action), once. */
  static final class LeaderCrash {
    private final java.util.concurrent.atomic.AtomicReference<DevCluster> cluster;
    private final java.util.function.Consumer<String> say;
    private volatile long killed;
    private volatile String step = "";
    private volatile CompletableFuture<Void> closing;

    LeaderCrash(java.util.concurrent.atomic.AtomicReference<DevCluster> cluster,
                java.util.function.Consumer<String> say) {
      this.cluster = cluster;
      this.say = say;
    }

    void kill(StepStartHook.Hit hit) throws Exception {
      DevCluster c = cluster.get();
      long leader = c.view().getGroups(0).getLeader();
      Node node = c.nodes().stream().filter(n -> n.nodeId() == leader).findFirst().orElse(null);
      step = hit.activity();
      if (node == null) {
        say.accept("group 0 has no leader to kill during " + hit.activity());
        return;
      }
      say.accept("killing node " + leader + ", leader of group 0, while " + hit.activity() + " runs"
          + (hit.group() >= 0 ? " (group " + hit.group() + ")" : ""));
      killed = leader;
      closing = c.killNode(node);
    }

    /** Starts the killed node again on its data dir once it is fully stopped. */
    void restart(DevCluster c) throws Exception {
      if (closing == null) {
        return;
      }
      closing.get(60, TimeUnit.SECONDS);
      c.restartNode(killed);
      say.accept("node " + killed + " restarted on its data dir");
    }

    long killed() {
      return killed;
    }

    String step() {
      return step;
    }
  }
}
