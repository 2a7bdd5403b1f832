package io.joinflow.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.joinflow.metrics.JoinflowRegistry;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.proto.v1.NodeState;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Per-group metrics of real nodes, as a scrape renders them, before and after a learner joins. */
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GroupMetricsIT extends MiniClusterTest {
  private static final int GROUPS = 2;

  @Test
  void shouldShowRolesIndexesAndLearnerLagPerGroup() {
    cluster = new MiniCluster(MiniCluster.tempDir("group-metrics"), GROUPS, MiniCluster.testSettings()).startVoters(3);
    cluster.startNode(4, false);
    cluster.register(4, NodeState.JOINING);
    long leader = cluster.leaderOf(1);
    PrometheusMeterRegistry onLeader = JoinflowRegistry.create();
    onLeader.getPrometheusRegistry().register(new GroupMetrics(cluster.node(leader)));
    PrometheusMeterRegistry onLearner = JoinflowRegistry.create();
    onLearner.getPrometheusRegistry().register(new GroupMetrics(cluster.node(4)));

    assertThat(onLeader.scrape())
        .contains("joinflow_raft_group_role{group=\"1\",role=\"leader\"} 1")
        .contains("joinflow_raft_learners{group=\"1\"} 0")
        .contains("joinflow_raft_voters{group=\"1\"} 3")
        .contains("joinflow_raft_learner_lag_entries{group=\"1\"} 0")
        .contains("joinflow_node_groups " + (GROUPS + 1))
        .containsPattern("joinflow_raft_leader_elections_won_total\\{group=\"1\"} [1-9]");
    assertThat(onLearner.scrape()).contains("joinflow_node_groups 0");

    cluster.addLearnerEverywhere(4);

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(onLeader.scrape())
        .contains("joinflow_raft_learners{group=\"1\"} 1")
        .contains("joinflow_raft_learner_lag_entries{group=\"1\"} 0")
        .containsPattern("joinflow_raft_configuration_changes_total\\{group=\"1\"} [1-9]"));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(onLearner.scrape())
        .contains("joinflow_raft_group_role{group=\"1\",role=\"listener\"} 1")
        .contains("joinflow_node_groups " + (GROUPS + 1))
        .containsPattern("joinflow_raft_leader_changes_total\\{group=\"1\"} [1-9]")
        .containsPattern("joinflow_raft_applied_index\\{group=\"1\"} [1-9]")
        .doesNotContain("joinflow_raft_learner_lag_entries{group=\"1\"}"));
  }
}
