package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class ClusterJsonTest {

  @Test
  void rendersTheDocumentedFieldsWithUnsignedNumbers() throws Exception {
    String text = new ObjectMapper().writeValueAsString(ClusterJson.render(ClusterViews.twoNodes()));
    JsonNode json = new ObjectMapper().readTree(text);

    assertThat(json.fieldNames()).toIterable()
        .containsExactly("cluster_id", "topology_version", "nodes", "groups");
    assertThat(json.get("cluster_id").isNumber()).isTrue();
    assertThat(json.get("cluster_id").bigIntegerValue()).isEqualTo(new BigInteger("18446744073709551614"));
    assertThat(text).contains("\"cluster_id\":18446744073709551614");
    assertThat(json.get("topology_version").asLong()).isEqualTo(7);

    JsonNode nodes = json.get("nodes");
    assertThat(nodes).hasSize(2);
    assertThat(nodes.get(0).fieldNames()).toIterable().containsExactly("node_id", "addr", "state");
    assertThat(nodes.get(0).get("node_id").asLong()).isEqualTo(1);
    assertThat(nodes.get(0).get("addr").asText()).isEqualTo("127.0.0.1:7101");
    assertThat(nodes.get(0).get("state").asText()).isEqualTo("ACTIVE");
    assertThat(nodes.get(1).get("state").asText()).isEqualTo("LEARNER");

    JsonNode groups = json.get("groups");
    assertThat(groups).hasSize(2);
    JsonNode g1 = groups.get(1);
    assertThat(g1.fieldNames()).toIterable()
        .containsExactly("group_id", "leader", "voters", "learners", "commit_index");
    assertThat(g1.get("group_id").asInt()).isEqualTo(1);
    assertThat(g1.get("leader").asLong()).isZero();
    assertThat(g1.get("voters").toString()).isEqualTo("[1]");
    assertThat(g1.get("learners").toString()).isEqualTo("[2]");
    assertThat(g1.get("commit_index").asLong()).isEqualTo(5);
    assertThat(groups.get(0).get("learners").isArray()).isTrue();
    assertThat(groups.get(0).get("learners")).isEmpty();
  }
}
