package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A real Prometheus (Debian's {@code prometheus}, on loopback) scrapes a real {@code joinflow dev}
 * process on the Temporal CLI's dev server and a node that joins it from a process of its own
 * ({@code node --join --metrics-listen --json}); the test reads back through Prometheus' HTTP
 * query API what an operator's dashboard would: the join counter by outcome, the join duration
 * histogram (and a quantile of it) and each group's learner lag, with every target up and the
 * rules of docs/prometheus loaded and healthy. {@code promtool check metrics} passes on each
 * endpoint's own output.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PrometheusIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final int GROUPS = 2;

  @Test
  void shouldScrapeJoinsDurationsAndLearnerLagIntoARealPrometheus(@TempDir Path dir) throws Exception {
    Path prometheus = RequiredTool.prometheus();
    Path promtool = RequiredTool.promtool();
    Path temporal = RequiredTool.temporal();
    int base = Ports.freeBase(60);
    int prometheusPort = base + 50;
    List<AutoCloseable> running = new ArrayList<>();
    try {
      JoinflowProcess dev = JoinflowProcess.start("dev", dir.resolve("dev.log"), Map.of(), "dev", "--json",
          "--nodes", "3", "--groups", String.valueOf(GROUPS), "--port-base", String.valueOf(base),
          "--temporal", "cli", "--temporal-cli", temporal.toString());
      running.add(dev);
      assertThat(dev.awaitLine("\"gateway\"", Duration.ofMinutes(3))).as(dev.tail()).isTrue();
      JsonNode endpoints = JSON.readTree(dev.logText().lines().filter(l -> l.startsWith("{\"gateway\""))
          .findFirst().orElseThrow());
      List<String> urls = new ArrayList<>();
      endpoints.get("metrics_urls").forEach(u -> urls.add(u.asText()));
      assertThat(urls).containsExactly("http://127.0.0.1:" + (base + 5) + "/metrics",
          "http://127.0.0.1:" + (base + 12) + "/metrics", "http://127.0.0.1:" + (base + 22) + "/metrics",
          "http://127.0.0.1:" + (base + 32) + "/metrics");
      String node4Metrics = "http://127.0.0.1:" + (base + 42) + "/metrics";
      urls.add(node4Metrics);

      Process server = startPrometheus(prometheus, dir, prometheusPort, urls);
      running.add(() -> stop(server));
      String api = "http://127.0.0.1:" + prometheusPort;
      // Refused connections until Prometheus listens.
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(250))
          .ignoreExceptionsInstanceOf(IOException.class)
          .until(() -> get(api + "/-/ready").statusCode() == 200);

      // Joined as dev prints it: a join token from the operator, then the node with the token and
      // the CA's hash; it makes its own key and gets its certificate from the gateway.
      String certs = endpoints.get("certs_dir").asText();
      StringWriter tokenOut = new StringWriter();
      StringWriter tokenErr = new StringWriter();
      CommandLine cli = Main.commandLine();
      cli.setOut(new PrintWriter(tokenOut, true));
      cli.setErr(new PrintWriter(tokenErr, true));
      assertThat(cli.execute("token", "create", "--gateway", endpoints.get("gateway").asText(), "--certs-dir", certs,
          "--node-id", "4", "--json")).as(tokenErr.toString()).isZero();
      String token = json(tokenOut.toString().strip()).get("token").asText();
      JoinflowProcess node4 = JoinflowProcess.start("node 4", dir.resolve("node-4.log"), Map.of(), "node",
          "--node-id", "4", "--listen", "127.0.0.1:" + (base + 40), "--data-dir", dir.resolve("node-4").toString(),
          "--join", endpoints.get("gateway").asText(), "--token", token, "--ca-hash",
          endpoints.get("ca_hash").asText(), "--metrics-listen", "127.0.0.1:" + (base + 42), "--json");
      running.add(node4);
      assertThat(node4.awaitLine("\"event\":\"ready\"", Duration.ofMinutes(3))).as(node4.tail()).isTrue();

      // The joining node showed its own join while it waited, then what it joined.
      List<JsonNode> events = node4.logText().lines().filter(l -> l.startsWith("{\"event\""))
          .map(PrometheusIT::json).toList();
      assertThat(events).extracting(e -> e.get("event").asText()).contains("progress", "joined", "ready");
      JsonNode joined = events.stream().filter(e -> e.get("event").asText().equals("joined")).findFirst().orElseThrow();
      assertThat(joined.get("groups")).extracting(JsonNode::asInt).containsExactly(0, 1, 2);
      assertThat(joined.get("ui_url").asText()).startsWith("http://127.0.0.1:" + (base + 2) + "/namespaces/joinflow/");
      assertThat(joined.get("promotion").get("watch").asText()).isEqualTo("./joinflow status --target 127.0.0.1:"
          + (base + 40));
      assertThat(events.stream().filter(e -> e.get("event").asText().equals("progress")))
          .allSatisfy(e -> assertThat(e.get("groups").asInt()).isIn(0, GROUPS + 1));

      // Nodes 2 and 3 joined when dev started, node 4 now: three successful joins, each with its
      // duration in the histogram.
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
        assertThat(scalar(api, "sum(joinflow_joins_finished_total{outcome=\"succeeded\"})")).isEqualTo(3.0);
        assertThat(scalar(api, "sum(joinflow_join_duration_seconds_count{outcome=\"succeeded\"})")).isEqualTo(3.0);
        assertThat(scalar(api, "sum(joinflow_join_duration_seconds_bucket{outcome=\"succeeded\",le=\"+Inf\"})"))
            .isEqualTo(3.0);
        assertThat(scalar(api, "sum(joinflow_joins_started_total)")).isEqualTo(3.0);
      });
      double median = scalar(api,
          "histogram_quantile(0.5, sum by (le) (joinflow_join_duration_seconds_bucket{outcome=\"succeeded\"}))");
      assertThat(median).isPositive().isLessThan(600);

      // Every group's leader reports its learner lag (0 once node 4 caught up, and after its
      // promotion, when the group has no learner left).
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
        JsonNode lag = query(api, "joinflow_raft_learner_lag_entries");
        List<String> groups = new ArrayList<>();
        lag.forEach(s -> groups.add(s.get("metric").get("group").asText()));
        assertThat(groups).containsExactlyInAnyOrder("0", "1", "2");
        lag.forEach(s -> assertThat(s.get("value").get(1).asDouble()).isGreaterThanOrEqualTo(0));
        assertThat(scalar(api, "joinflow_node_groups{instance=\"127.0.0.1:" + (base + 42) + "\"}"))
            .isEqualTo(GROUPS + 1);
      });
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        assertThat(scalar(api, "count(up == 1)")).isEqualTo(urls.size());
        assertThat(scalar(api, "sum(joinflow_grpc_server_handled_total{grpc_method=\"Join\",grpc_code=\"OK\"})"))
            .isGreaterThanOrEqualTo(3.0);
        assertThat(query(api, "temporal_request_total")).isNotEmpty();
      });
      JsonNode rules = JSON.readTree(get(api + "/api/v1/rules").body()).get("data").get("groups");
      assertThat(rules.findValuesAsText("health")).isNotEmpty().containsOnly("ok");

      // Every query of the documented dashboard is valid PromQL here, on documented metrics
      // (some exist only once something happened: a retry, a compensation).
      String operations = Files.readString(PrometheusRulesTest.RULES_DIR.resolveSibling("operations.md"),
          StandardCharsets.UTF_8);
      JsonNode dashboard = JSON.readTree(PrometheusRulesTest.RULES_DIR.resolveSibling("grafana")
          .resolve("joinflow-joins.json").toFile());
      for (JsonNode expr : dashboard.findValues("expr")) {
        String promql = expr.asText().replace("$__rate_interval", "1m");
        query(api, promql);
        java.util.regex.Matcher names = java.util.regex.Pattern.compile("\\b(joinflow|temporal)_[a-z_]+").matcher(promql);
        while (names.find()) {
          String name = names.group().replaceAll("_(bucket|sum|count)$", "");
          assertThat(operations).as("docs/operations.md lists " + name + ", which the dashboard uses").contains(name);
        }
      }

      for (String url : urls) {
        String text = get(url).body();
        assertThat(text).contains("# TYPE joinflow_");
        PrometheusRulesTest.Result lint = promtool(promtool, text);
        assertThat(lint.exit()).as("promtool check metrics on " + url + ":\n" + lint.output()).isZero();
      }
    } finally {
      for (int i = running.size() - 1; i >= 0; i--) {
        running.get(i).close();
      }
    }
  }

  private static Process startPrometheus(Path prometheus, Path dir, int port, List<String> urls) throws IOException {
    StringBuilder targets = new StringBuilder();
    for (String url : urls) {
      URI u = URI.create(url);
      targets.append("          - '").append(u.getHost()).append(':').append(u.getPort()).append("'\n");
    }
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, "global:\n"
        + "  scrape_interval: 1s\n"
        + "  evaluation_interval: 1s\n"
        + "rule_files:\n"
        + "  - '" + PrometheusRulesTest.RULES + "'\n"
        + "scrape_configs:\n"
        + "  - job_name: joinflow\n"
        + "    metrics_path: /metrics\n"
        + "    static_configs:\n"
        + "      - targets:\n" + targets);
    return new ProcessBuilder(prometheus.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
  }

  private static void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static PrometheusRulesTest.Result promtool(Path promtool, String metrics) throws Exception {
    Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(metrics.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new PrometheusRulesTest.Result(p.exitValue(), out);
  }

  private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The result vector of an instant query through Prometheus' HTTP API. */
  private static JsonNode query(String api, String promql) throws Exception {
    HttpResponse<String> r = get(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("status").asText()).as(r.body()).isEqualTo("success");
    return body.get("data").get("result");
  }

  /** The one value of a query that aggregates to a single series (NaN when it has none yet). */
  private static double scalar(String api, String promql) throws Exception {
    JsonNode result = query(api, promql);
    return result.isEmpty() ? Double.NaN : result.get(0).get("value").get(1).asDouble();
  }

  private static JsonNode json(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new IllegalStateException(line, e);
    }
  }
}
