package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code joinflow demo --json} itself, in process, as a user runs it. */
class DemoIT {
  @Test
  void shouldJoinNodeFourAndEndWithOneJsonLine() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));

    int exit = cli.execute("demo", "--json", "--groups", "4", "--port-base", String.valueOf(Ports.freeBase(60)));

    assertThat(exit).as(err.toString()).isZero();
    String[] lines = out.toString().strip().split("\n");
    JsonNode summary = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertThat(summary.get("success").asBoolean()).isTrue();
    assertThat(summary.get("node_id").asLong()).isEqualTo(4);
    assertThat(summary.get("workflow_id").asText()).endsWith("/4").startsWith("join/");
    assertThat(summary.get("join_ms").asLong()).isPositive();
    assertThat(summary.get("groups")).hasSize(5);
    for (JsonNode g : summary.get("groups")) {
      assertThat(g.get("learners").toString()).contains("4");
      assertThat(g.get("voters").toString()).isEqualTo("[1]");
    }
    assertThat(out.toString()).contains("timeline of join/").contains("addLearner").contains("dominant step:");
  }
}
