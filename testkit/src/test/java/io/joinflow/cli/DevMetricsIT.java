package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.joinflow.node.Node;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.workflows.JoinOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dev cluster's metrics while a join is held in one step (embedded Temporal, in-process): the
 * gateway counts the join in its phase and the worker the step in flight, and once the step goes
 * on both drop back to zero and the join is counted as finished.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DevMetricsIT {
  private static final long JOINING = 4;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir
  Path dir;
  private FaultyDevCluster cluster;
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void stop() {
    release.countDown();
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void shouldShowAHeldJoinInItsPhaseAndItsStepInFlight() throws Exception {
    int base = Ports.freeBase(60);
    CountDownLatch held = new CountDownLatch(1);
    StepTrigger hold = new StepTrigger(JOINING, "addLearner", 1, StepTrigger.When.START, hit -> {
      held.countDown();
      release.await();
    });
    cluster = FaultyDevCluster.start(new DevCluster.Settings(3, 1, base, dir, JoinOptions.defaults())
            .withMetrics(new HostPort("127.0.0.1", base + 5)), line -> System.out.println("[dev] " + line), hold);
    List<String> urls = cluster.metricsUrls();
    assertThat(urls).hasSize(4).first().isEqualTo("http://127.0.0.1:" + (base + 5) + "/metrics");
    String process = urls.get(0);

    Node four = cluster.startNode(JOINING, false);
    CompletableFuture<JoinResponse> join = CompletableFuture.supplyAsync(() -> {
      try {
        return cluster.join(four, line -> System.out.println("[node 4] " + line));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(held.await(2, TimeUnit.MINUTES)).isTrue();

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(scrape(process))
        .contains("joinflow_joins_in_flight{phase=\"learners\"} 1.0")
        .contains("joinflow_joins_in_flight{phase=\"validate\"} 0.0")
        .contains("joinflow_steps_in_flight{step=\"addLearner\",workflow=\"join\"} 1.0"));
    // Node 4 already hosts its divisions of the groups it was added to; the seed leads them all.
    assertThat(scrape(cluster.metricsUrl(cluster.nodes().get(0))))
        .contains("joinflow_raft_group_role{group=\"0\",role=\"leader\"} 1.0");

    release.countDown();
    assertThat(join.get(2, TimeUnit.MINUTES).getSuccess()).isTrue();

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(scrape(process))
        .contains("joinflow_joins_in_flight{phase=\"learners\"} 0.0")
        .contains("joinflow_steps_in_flight{step=\"addLearner\",workflow=\"join\"} 0.0")
        .containsPattern("joinflow_joins_finished_total\\{[^}]*outcome=\"succeeded\"[^}]*} 3.0")
        .containsPattern("joinflow_grpc_server_handled_total\\{grpc_code=\"OK\",grpc_method=\"Join\"[^}]*} 3.0"));
    assertThat(scrape(cluster.metricsUrl(four))).contains("joinflow_node_groups 2.0");

    Node three = cluster.nodes().get(2);
    String threeUrl = cluster.metricsUrl(three);
    cluster.stopNode(three);
    assertThatRefused(threeUrl);
  }

  private static String scrape(String url) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** A stopped node's endpoint stops with it. */
  private static void assertThatRefused(String url) {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> scrape(url)).isInstanceOf(java.io.IOException.class);
  }
}
