package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** {@code joinflow demo --json} itself, in process, as a user runs it. */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DemoIT {
  @Test
  void shouldJoinAndPromoteNodeFourAndEndWithOneJsonLine() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));

    // The path that needs nothing but Java and Maven.
    int exit = cli.execute("demo", "--json", "--groups", "4", "--temporal", "embedded",
        "--port-base", String.valueOf(Ports.freeBase(60)));

    assertThat(exit).as(err.toString()).isZero();
    String[] lines = out.toString().strip().split("\n");
    JsonNode summary = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertThat(summary.get("success").asBoolean()).isTrue();
    assertThat(summary.get("tls").asBoolean()).as("the demo runs mutual TLS unless --insecure").isTrue();
    assertThat(summary.get("temporal_mode").asText()).isEqualTo("embedded");
    assertThat(summary.get("ui_url").isNull()).isTrue();
    assertThat(summary.at("/join/ui_url").isNull()).isTrue();
    assertThat(summary.get("node_id").asLong()).isEqualTo(4);
    assertThat(summary.get("workflow_id").asText()).endsWith("/4").startsWith("join/");
    assertThat(summary.get("join_ms").asLong()).isPositive();
    assertThat(summary.get("groups")).hasSize(5);
    // Node 4 joins once nodes 2 and 3 vote everywhere, and the demo waits for its promotion.
    assertThat(summary.get("promote_workflow_id").asText()).startsWith("promote/").endsWith("/4");
    assertThat(summary.get("promote_phase").asText()).isEqualTo("done");
    for (JsonNode g : summary.get("groups")) {
      List<Long> voters = new ArrayList<>();
      g.get("voters").forEach(v -> voters.add(v.asLong()));
      assertThat(voters).containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
      assertThat(g.get("learners")).isEmpty();
    }
    assertThat(out.toString()).contains("timeline of join/").contains("addLearner").contains("dominant step:")
        .contains("nodes 1, 2 and 3 vote in every group")
        .containsSubsequence("nodes 1, 2 and 3 vote in every group", "node 4 started empty")
        .contains("node 4 became a voter of 5/5 groups");
    assertQuiet(err);
    String log = logOf(summary, out);
    assertThat(log).contains("node 4: joined 5 groups as learner")
        .contains("[node 4 " + summary.get("workflow_id").asText() + " group 3] - node 4: learner of group 3")
        .contains("node 4: promotion finished");
  }

  @Test
  void shouldRunOnTheTemporalDevServerAndLinkTheJoinsPageInTheWebUi() throws Exception {
    Path temporal = RequiredTool.temporal();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int base = Ports.freeBase(60);

    int exit = cli.execute("demo", "--json", "--groups", "2", "--temporal", "cli", "--temporal-cli", temporal.toString(),
        "--port-base", String.valueOf(base));

    assertThat(exit).as(out + "\n" + err).isZero();
    String[] lines = out.toString().strip().split("\n");
    JsonNode summary = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertThat(summary.get("success").asBoolean()).isTrue();
    assertThat(summary.get("temporal_mode").asText()).isEqualTo("cli");
    assertThat(summary.get("temporal_address").asText()).isEqualTo("127.0.0.1:" + base);
    assertThat(summary.get("temporal_namespace").asText()).isEqualTo("joinflow");
    assertThat(summary.get("ui_url").asText()).isEqualTo("http://127.0.0.1:" + (base + 2));
    String workflowId = summary.get("workflow_id").asText();
    String page = "http://127.0.0.1:" + (base + 2) + "/namespaces/joinflow/workflows/"
        + workflowId.replace("/", "%2F") + "/" + summary.get("run_id").asText() + "/history";
    assertThat(summary.at("/join/ui_url").asText()).isEqualTo(page);
    assertThat(out.toString()).contains("temporal: cli (Temporal dev server ")
        .contains("see the join in the Temporal Web UI: " + page);
    // The demo stopped its dev server on the way out: nothing answers on its ports any more.
    assertThat(TemporalChoice.answers(base)).isFalse();
    assertQuiet(err);
    assertThat(logOf(summary, out)).contains("node 4: joined 3 groups as learner");
  }

  @Test
  void shouldStillJoinWhenTheGroupZeroLeaderIsKilledDuringAddLearner() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));

    int exit = cli.execute("demo", "--json", "--groups", "2", "--crash-leader-during", "addLearner",
        "--port-base", String.valueOf(Ports.freeBase(60)));

    assertThat(exit).as(out + "\n" + err).isZero();
    String[] lines = out.toString().strip().split("\n");
    JsonNode summary = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertThat(summary.get("success").asBoolean()).isTrue();
    assertThat(summary.get("crashed_during").asText()).isEqualTo("addLearner");
    long killed = summary.get("crashed_node").asLong();
    assertThat(killed).isBetween(1L, 3L);
    assertThat(out.toString())
        .contains("killing node " + killed + ", leader of group 0, while addLearner runs")
        .contains("node " + killed + " restarted on its data dir")
        .contains("the join still succeeded");
    for (JsonNode g : summary.get("groups")) {
      List<Long> voters = new ArrayList<>();
      g.get("voters").forEach(v -> voters.add(v.asLong()));
      assertThat(voters).contains(4L);
    }
    // Killing a leader mid-join makes activities fail and retry: one line each, in the file only.
    assertQuiet(err);
    assertThat(logOf(summary, out)).contains("node 4: joined 3 groups as learner");
  }

  /**
   * Stderr of a successful demo: at most 20 lines, and none a library's (the terminal gets
   * joinflow's own warnings only) or a stack trace's.
   */
  private static void assertQuiet(StringWriter err) {
    List<String> lines = err.toString().lines().toList();
    assertThat(lines).as(err.toString()).hasSizeLessThanOrEqualTo(20)
        .noneMatch(l -> l.startsWith("\tat ") || l.startsWith("Caused by:"))
        .noneMatch(l -> l.contains("GrpcLogAppender") || l.contains("ActivityTaskExecutors"));
  }

  /**
   * The demo's log, as the JSON line and the first line of its story name it. It outlived the
   * temporary data dir (removed but for it); the test removes it. It holds no stack trace: the
   * retried activities are one line each ("attempt 1 failed"), Ratis' known joint-configuration
   * failure is dropped ({@link JointConfNoise}), and the shutdown is quiet.
   */
  private static String logOf(JsonNode summary, StringWriter out) throws Exception {
    Path file = Path.of(summary.get("log_file").asText());
    assertThat(out.toString()).contains("logs: " + file);
    assertThat(file).exists().hasFileName(CommandLog.FILE_NAME);
    try (var left = Files.list(file.getParent())) {
      assertThat(left.toList()).as("what the demo left of its data dir").containsExactly(file);
    }
    String log = Files.readString(file);
    Files.delete(file);
    Files.delete(file.getParent());
    assertThat(stackTraces(log)).as(log).isEmpty();
    assertThat(log).doesNotContain(JointConfNoise.BUG);
    assertThat(log).contains("stopping nodes");
    String shutdown = log.substring(log.indexOf("stopping nodes"));
    assertThat(shutdown.lines().filter(l -> l.contains(" WARN ")).toList()).as("warnings while the nodes stop").isEmpty();
    return log;
  }

  /** Each stack trace in the log with the event it belongs to. */
  private static List<String> stackTraces(String log) {
    List<String> traces = new ArrayList<>();
    StringBuilder current = null;
    String event = "";
    for (String line : log.lines().toList()) {
      if (line.matches("\\d{4}-\\d{2}-\\d{2} .*")) {
        if (current != null) {
          traces.add(current.toString());
          current = null;
        }
        event = line;
      } else if (current == null) {
        current = new StringBuilder(event).append('\n').append(line);
      } else {
        current.append('\n').append(line);
      }
    }
    if (current != null) {
      traces.add(current.toString());
    }
    return traces;
  }

  /**
   * Ratis 3.3.0's getGroup finding a peer twice while a promotion's joint configuration commits.
   * joinflow's reads wait that out (ConfReader, JointConfIT), but the Ratis server still logs
   * each failed group-info request with its stack trace: a bug of Ratis, so it belongs in the log.
   */
  @Test
  void shouldRefuseAnUnknownStep() {
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute("demo", "--crash-leader-during", "promote")).isEqualTo(2);
    assertThat(err.toString()).contains("--crash-leader-during must be one of validate, registerPeer, admit,");
  }
}
