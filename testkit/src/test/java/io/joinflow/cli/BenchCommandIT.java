package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code joinflow bench} itself, in process, with the smallest setting that still has every kind of point. */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BenchCommandIT {

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void shouldMeasureEveryModeAndWriteTheResults(@TempDir Path dir) throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new BenchCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    Path results = dir.resolve("results.json");
    // node ids 2..7: one joining node per mode at the first point, two at the second (2..4 warming up)
    int base = Ports.freeBase(80);

    long started = System.nanoTime();
    // The bench's own logic on the Temporal it needs nothing for; RealTemporalIT runs it on the dev server.
    int exit = cli.execute("--groups", "1", "--concurrent", "2", "--reps", "1", "--warmup", "0",
        "--jvm-warmup", "1", "--temporal", "embedded",
        "--port-base", String.valueOf(base), "--out", results.toString(), "--data-dir", dir.resolve("data").toString());

    System.out.println(out);
    System.out.println(err);
    assertThat(exit).as(err.toString()).isZero();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(60));
    JsonNode json = new ObjectMapper().readTree(results.toFile());
    assertThat(json.get("all_joins_succeeded").asBoolean()).isTrue();
    assertThat(json.get("temporal_mode").asText()).isEqualTo("embedded");
    assertThat(json.at("/machine/cores").asInt()).isPositive();
    JsonNode points = json.get("points");
    assertThat(points).hasSize(2);
    assertThat(points.get(0).get("label").asText()).isEqualTo("groups=1");
    assertThat(points.get(1).get("label").asText()).isEqualTo("concurrent=2 @8g");
    assertThat(json.at("/plan/tls").asBoolean()).as("bench measures what joinflow runs: mutual TLS").isTrue();
    for (JsonNode p : points) {
      assertThat(p.get("tls").asBoolean()).isTrue();
      assertThat(p.get("voters").asInt()).isEqualTo(1);
      assertThat(p.get("promote").asBoolean()).isFalse();
      int joins = p.get("concurrent").asInt();
      for (String mode : new String[] {"workflow", "direct", "sequential"}) {
        JsonNode m = p.at("/modes/" + mode);
        assertThat(m.at("/batch_ms/count").asInt()).as(mode).isEqualTo(1);
        assertThat(m.at("/batch_ms/median").asDouble()).as(mode).isPositive();
        assertThat(m.at("/join_ms/count").asInt()).as(mode).isEqualTo(joins);
        assertThat(m.at("/join_ms/max").asDouble()).as(mode).isPositive()
            .isLessThanOrEqualTo(m.at("/batch_ms/max").asDouble());
        assertThat(m.get("failures")).as(mode).isEmpty();
        int calls = joins * (p.get("groups").asInt() + 1);
        assertThat(m.at("/per_group_call_ms/addLearner/count").asInt()).as(mode).isEqualTo(calls);
        assertThat(m.at("/per_group_call_ms/addLearner/median").asDouble()).as(mode).isPositive();
        assertThat(m.at("/per_group_call_ms/awaitCaughtUp/count").asInt()).as(mode).isEqualTo(calls);
        assertThat(m.get("cpu_busy").asDouble()).as(mode).isPositive();
        assertThat(m.has("join_and_promote_ms")).as(mode).isFalse();
      }
      assertThat(p.at("/modes/workflow/steps_median_ms/addLearner").asDouble()).isPositive();
      assertThat(p.at("/modes/workflow/max_history_events").asInt()).isGreaterThan(6 * (p.get("groups").asInt() + 1));
      assertThat(p.at("/ratios/workflow_direct").asDouble()).isPositive();
      assertThat(p.at("/ratios/workflow_sequential").asDouble()).isPositive();
      assertThat(p.get("problems")).isEmpty();
    }
    assertThat(json.get("targets")).hasSize(4);
    assertThat(json.get("targets").findValuesAsText("status")).containsOnly("not measured");
    assertThat(out.toString()).contains("groups=1").contains("concurrent=2 @8g").contains("WF/DIRECT")
        .contains("results written to");
    assertThat(err.toString()).contains("groups=1: rep 1/1 workflow")
        .containsPattern("JVM warm-up @8g: warm-up 1/1 .*workflow [0-9]+ ms");
    assertThat(json.at("/plan/jvm_warmup").asInt()).isEqualTo(1);
  }

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void shouldJoinIntoAClusterOfVotersAndMeasureUntilTheNodeVotes(@TempDir Path dir) throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new BenchCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    Path results = dir.resolve("results.json");
    // nodes 1 and 2 are the cluster's voters; 3..8 join, one per mode and point
    int base = Ports.freeBase(100);

    int exit = cli.execute("--groups", "1", "--concurrent", "1", "--concurrent-groups", "1", "--voters", "2",
        "--promote", "--stabilization-ms", "0", "--reps", "1", "--warmup", "0", "--jvm-warmup", "0", "--insecure",
        "--temporal", "embedded", "--port-base", String.valueOf(base), "--out", results.toString(),
        "--data-dir", dir.resolve("data").toString());

    System.out.println(out);
    System.out.println(err);
    assertThat(exit).as(err.toString()).isZero();
    JsonNode json = new ObjectMapper().readTree(results.toFile());
    assertThat(json.get("all_joins_succeeded").asBoolean()).isTrue();
    assertThat(json.at("/plan/voters").asInt()).isEqualTo(2);
    assertThat(json.at("/plan/promote").asBoolean()).isTrue();
    assertThat(json.at("/plan/stabilization_ms").asLong()).isZero();
    // --insecure, to measure what TLS costs: recorded, and said loudly.
    assertThat(json.at("/plan/tls").asBoolean()).isFalse();
    assertThat(err.toString()).contains("runs INSECURE (--insecure)");
    JsonNode points = json.get("points");
    assertThat(points).hasSize(2);
    for (JsonNode p : points) {
      assertThat(p.get("tls").asBoolean()).isFalse();
      assertThat(p.get("voters").asInt()).isEqualTo(2);
      assertThat(p.get("promote").asBoolean()).isTrue();
      assertThat(p.get("label").asText()).endsWith(" v2 +p");
      for (String mode : new String[] {"workflow", "direct", "sequential"}) {
        JsonNode m = p.at("/modes/" + mode);
        assertThat(m.get("failures")).as(mode).isEmpty();
        assertThat(m.at("/join_ms/count").asInt()).as(mode).isEqualTo(1);
        assertThat(m.at("/join_and_promote_ms/count").asInt()).as(mode).isEqualTo(1);
        assertThat(m.at("/join_and_promote_ms/median").asDouble()).as(mode)
            .isGreaterThanOrEqualTo(m.at("/join_ms/median").asDouble());
        // the batch runs until the node votes everywhere
        assertThat(m.at("/batch_ms/median").asDouble()).as(mode)
            .isGreaterThanOrEqualTo(m.at("/join_ms/median").asDouble());
      }
      int groups = p.get("groups").asInt() + 1;
      assertThat(p.at("/modes/direct/per_group_call_ms/promote/count").asInt()).isEqualTo(groups);
      assertThat(p.at("/modes/sequential/per_group_call_ms/promote/count").asInt()).isEqualTo(groups);
      // The workflow's promotion, read from its history: started with the join's membership.
      assertThat(p.at("/modes/workflow/promote_steps_median_ms").has("settleMember")).as(p.toString()).isTrue();
      assertThat(p.at("/modes/workflow/promote_steps_median_ms").has("describeMember")).isFalse();
      assertThat(p.at("/modes/workflow/promote_history_ms/count").asInt()).isEqualTo(1);
      assertThat(p.get("problems")).isEmpty();
    }
    assertThat(out.toString()).contains("2 voters per group").contains("+p: until the node votes in every group");
  }
}
