package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClusterTableTest {

  @Test
  void listsHeaderNodesAndGroups() {
    String table = ClusterTable.render(ClusterViews.twoNodes());

    assertThat(table.lines().findFirst()).hasValue(
        "cluster 18446744073709551614  topology version 7  answered by node 1");
    assertThat(table).containsPattern("(?m)^NODE +ADDR +STATE$");
    assertThat(table).containsPattern("(?m)^1 +127\\.0\\.0\\.1:7101 +ACTIVE$");
    assertThat(table).containsPattern("(?m)^2 +127\\.0\\.0\\.1:7201 +LEARNER$");
    assertThat(table).containsPattern("(?m)^GROUP +LEADER +VOTERS +LEARNERS +COMMIT$");
    assertThat(table).containsPattern("(?m)^0 +1 +1 +- +12$");
    // No leader answered for group 1: shown as "-", not as node 0.
    assertThat(table).containsPattern("(?m)^1 +- +1 +2 +5$");
  }

  @Test
  void alignsColumns() {
    String table = ClusterTable.render(ClusterViews.twoNodes());
    String header = table.lines().filter(l -> l.startsWith("NODE")).findFirst().orElseThrow();
    String row = table.lines().filter(l -> l.startsWith("2 ")).findFirst().orElseThrow();

    assertThat(row.indexOf("LEARNER")).isEqualTo(header.indexOf("STATE"));
    assertThat(row.indexOf("127.")).isEqualTo(header.indexOf("ADDR"));
  }
}
