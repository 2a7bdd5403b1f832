package io.joinflow.node;

import static io.joinflow.node.MembershipIT.key;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.node.testing.MiniClusterTest;
import io.joinflow.proto.v1.GetRequest;
import io.joinflow.proto.v1.GetResponse;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.PutRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every node restarts from its catalog with the same cluster id, topology and data. */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RestartIT extends MiniClusterTest {

  @Test
  void shouldReopenSameClusterTopologyAndDataAfterFullRestart() {
    cluster = new MiniCluster(MiniCluster.tempDir("restart"), 3, MiniCluster.testSettings()).startVoters(3);
    for (int i = 0; i < 30; i++) {
      cluster.data(1 + i % 3).put(PutRequest.newBuilder().setKey(key(i)).setValue(ByteString.copyFromUtf8("v" + i)).build());
    }
    MetadataState before = cluster.metadata();
    String incarnation2 = cluster.node(2).identity().incarnation();

    CompletableFuture.allOf(cluster.stopNodeAsync(1), cluster.stopNodeAsync(2), cluster.stopNodeAsync(3)).join();
    // Node 1 restarts with --bootstrap again: it must reopen its cluster, not create another.
    cluster.startNode(1, true);
    cluster.startNode(2, false);
    cluster.startNode(3, false);

    for (long id : List.of(1L, 2L, 3L)) {
      assertThat(cluster.node(id).identity().clusterId()).isEqualTo(before.getClusterId());
      assertThat(cluster.node(id).hostedGroups()).containsExactlyElementsOf(cluster.groups());
    }
    assertThat(cluster.node(2).identity().incarnation()).isEqualTo(incarnation2);
    for (int g : cluster.groups()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> cluster.leaderOf(g) != 0);
    }
    MetadataState after = cluster.metadata();
    assertThat(after.getClusterId()).isEqualTo(before.getClusterId());
    assertThat(after.getNodesList()).isEqualTo(before.getNodesList());
    assertThat(after.getRoutingList()).isEqualTo(before.getRoutingList());
    assertThat(after.getTopologyVersion()).isEqualTo(before.getTopologyVersion());
    for (int i = 0; i < 30; i++) {
      GetResponse r = cluster.data(1 + (i + 1) % 3).get(GetRequest.newBuilder().setKey(key(i)).build());
      assertThat(r.getFound()).isTrue();
      assertThat(r.getValue().toStringUtf8()).isEqualTo("v" + i);
    }
    // Each replica's catalog holds group 0 as it was.
    for (long id : List.of(1L, 2L, 3L)) {
      await().atMost(Duration.ofSeconds(10)).until(() ->
          cluster.node(id).catalog().metadata().state().getNodesList().equals(before.getNodesList()));
    }
  }
}
