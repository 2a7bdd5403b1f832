package io.joinflow.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.proto.v1.AdmitNode;
import io.joinflow.proto.v1.ChangeTokenRequest;
import io.joinflow.proto.v1.EvictNode;
import io.joinflow.proto.v1.IssueToken;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.JoinStep;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.SetTokenState;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TokenState;
import io.joinflow.proto.v1.TopologyChange;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Simultaneous topology changes through one node are written together: fewer group-0 entries
 * than changes, each change still applied or refused on its own. One single-node cluster.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TopologyChangesIT {
  private static final int JOINS = 16;
  private static MiniCluster cluster;

  @BeforeAll
  static void start() {
    cluster = new MiniCluster(MiniCluster.tempDir("topology-changes"), 2, MiniCluster.testSettings()).startVoters(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void shouldWriteSimultaneousJoinsTogetherAndRefuseTheOneThatDoesNotFitAlone() throws Exception {
    MetadataState before = cluster.metadata();
    NodeRecord seed = before.getNodes(0);
    List<TopologyChange> admits = new ArrayList<>();
    for (int i = 0; i < JOINS; i++) {
      long id = 100 + i;
      admits.add(TopologyChange.newBuilder().setAdmit(AdmitNode.newBuilder().setNodeId(id)
          .setAddr("127.0.0.1:" + (30000 + i)).setRaftAddr("127.0.0.1:" + (31000 + i)).setIncarnation("inc-" + id)
          .setWireVersion(1).setWorkflowId("join-" + id)).build());
    }
    // Node 1's address under another id: group 0 refuses it, and only it.
    TopologyChange collision = TopologyChange.newBuilder().setAdmit(AdmitNode.newBuilder().setNodeId(200)
        .setAddr(seed.getAddr()).setRaftAddr("127.0.0.1:32000").setIncarnation("inc-200")
        .setWorkflowId("join-200")).build();

    List<Object> outcomes = all(concat(admits, collision));
    Set<Long> entries = new HashSet<>();
    for (int i = 0; i < JOINS; i++) {
      assertThat(outcomes.get(i)).as("admit of node %d", 100 + i).isInstanceOf(MetadataResult.class);
      entries.add(((MetadataResult) outcomes.get(i)).getLogIndex());
    }
    assertThat(outcomes.get(JOINS)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
      assertThat(e.getStatus().getDescription()).contains("is already used by node 1");
    });
    assertThat(entries).as("group-0 entries of %d simultaneous admits", JOINS).hasSizeLessThan(JOINS);

    MetadataState after = cluster.metadata();
    assertThat(after.getNodesList()).filteredOn(n -> n.getNodeId() >= 100 && n.getNodeId() < 100 + JOINS)
        .hasSize(JOINS).allSatisfy(n -> assertThat(n.getState()).isEqualTo(NodeState.JOINING));
    assertThat(after.getNodesList()).noneMatch(n -> n.getNodeId() == 200);
    assertThat(after.getJoinsList()).filteredOn(j -> j.getNodeId() >= 100).extracting(JoinRecord::getPhase)
        .hasSize(JOINS).containsOnly("admit");
    // One topology change per entry, however many joins it holds.
    assertThat(after.getTopologyVersion()).isEqualTo(before.getTopologyVersion() + entries.size());

    List<TopologyChange> evicts = new ArrayList<>();
    for (int i = 0; i < JOINS; i++) {
      evicts.add(TopologyChange.newBuilder().setEvict(EvictNode.newBuilder().setNodeId(100 + i)
          .setCompensate(JoinStep.newBuilder().setWorkflowId("join-" + (100 + i))).setReason("test")).build());
    }
    assertThat(all(evicts)).allSatisfy(o -> assertThat(o).isInstanceOf(MetadataResult.class));
    MetadataState cleaned = cluster.metadata();
    assertThat(cleaned.getNodesList()).isEqualTo(before.getNodesList());
    assertThat(cleaned.getJoinsList()).filteredOn(j -> j.getNodeId() >= 100).extracting(JoinRecord::getOutcome)
        .hasSize(JOINS).containsOnly("compensated: test");
  }

  @Test
  void shouldGiveACompensatedJoinsTokenBackInTheEntryThatRecordsTheCompensation() {
    // Below the other test's ids, which it counts from 100 up.
    long node = 50;
    String workflow = "join-50";
    long now = System.currentTimeMillis();
    cluster.admin(1).changeToken(ChangeTokenRequest.newBuilder().setIssue(IssueToken.newBuilder().setNowMillis(now)
        .setToken(TokenRecord.newBuilder().setId("tok050").setSecretSha256(ByteString.copyFrom(new byte[32]))
            .setNodeId(node).setExpiresAtMillis(now + 3_600_000).setState(TokenState.TOKEN_ISSUED))).build());
    cluster.admin(1).changeToken(ChangeTokenRequest.newBuilder().setSetState(SetTokenState.newBuilder().setId("tok050")
        .setExpected(TokenState.TOKEN_ISSUED).setNext(TokenState.TOKEN_IN_FLIGHT).setWorkflowId(workflow)
        .setNowMillis(now)).build());
    cluster.admin(1).changeTopology(TopologyChange.newBuilder().setAdmit(AdmitNode.newBuilder().setNodeId(node)
        .setAddr("127.0.0.1:33050").setRaftAddr("127.0.0.1:33051").setIncarnation("inc-50").setWireVersion(1)
        .setWorkflowId(workflow)).build());
    long beforeEvict = cluster.metadata().getTopologyVersion();

    MetadataResult evicted = cluster.admin(1).changeTopology(TopologyChange.newBuilder().setEvict(EvictNode.newBuilder()
        .setNodeId(node).setCompensate(JoinStep.newBuilder().setWorkflowId(workflow)).setReason("test")).build());

    MetadataState after = cluster.metadata();
    assertThat(evicted.getTopologyVersion()).as("one entry").isEqualTo(beforeEvict + 1);
    assertThat(after.getTokensList()).filteredOn(t -> t.getId().equals("tok050")).singleElement()
        .satisfies(t -> assertThat(t.getState()).isEqualTo(TokenState.TOKEN_ISSUED));
    assertThat(after.getJoinsList()).filteredOn(j -> j.getWorkflowId().equals(workflow)).singleElement()
        .satisfies(j -> assertThat(j.getOutcome()).isEqualTo("compensated: test"));
    assertThat(after.getNodesList()).noneMatch(n -> n.getNodeId() == node);
  }

  private static List<TopologyChange> concat(List<TopologyChange> changes, TopologyChange last) {
    List<TopologyChange> all = new ArrayList<>(changes);
    all.add(last);
    return all;
  }

  /** Sends every change at once, each from its own thread; a result or the exception per change. */
  private static List<Object> all(List<TopologyChange> changes) throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(changes.size());
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Object>> futures = new ArrayList<>();
      for (TopologyChange c : changes) {
        futures.add(callers.submit(() -> {
          go.await();
          try {
            return cluster.admin(1).changeTopology(c);
          } catch (StatusRuntimeException e) {
            return e;
          }
        }));
      }
      go.countDown();
      List<Object> out = new ArrayList<>();
      for (Future<Object> f : futures) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      callers.shutdownNow();
    }
  }
}
