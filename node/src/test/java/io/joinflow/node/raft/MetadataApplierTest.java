package io.joinflow.node.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.joinflow.proto.v1.Bootstrap;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.PutJoinRecord;
import io.joinflow.proto.v1.RemoveNode;
import io.joinflow.proto.v1.SetNodeState;
import io.joinflow.proto.v1.SetRouting;
import io.joinflow.proto.v1.UpsertNode;
import org.junit.jupiter.api.Test;

class MetadataApplierTest {
  private static final NodeRecord SEED = node(1, "10.0.0.1:7100");

  private static NodeRecord node(long id, String addr) {
    return NodeRecord.newBuilder().setNodeId(id).setAddr(addr).setRaftAddr(addr + "1").setIncarnation("i" + id).build();
  }

  private static MetadataState bootstrapped() {
    return apply(MetadataState.getDefaultInstance(), MetadataCommand.newBuilder().setBootstrap(
        Bootstrap.newBuilder().setClusterId(42).setDataGroups(3).setSeed(SEED)).build()).state();
  }

  private static MetadataApplier.Outcome apply(MetadataState s, MetadataCommand c) {
    return MetadataApplier.apply(s, c);
  }

  private static MetadataCommand upsert(NodeRecord n) {
    return MetadataCommand.newBuilder().setUpsertNode(UpsertNode.newBuilder().setNode(n)).build();
  }

  @Test
  void shouldBootstrapOnceWithSeedAsOnlyVoterEverywhere() {
    MetadataState s = bootstrapped();
    assertThat(s.getClusterId()).isEqualTo(42);
    assertThat(s.getTopologyVersion()).isEqualTo(1);
    assertThat(s.getNodes(0).getState()).isEqualTo(NodeState.ACTIVE);
    assertThat(s.getRoutingList()).hasSize(4).allSatisfy(r -> assertThat(r.getVotersList()).containsExactly(1L));

    var same = apply(s, MetadataCommand.newBuilder().setBootstrap(Bootstrap.newBuilder()
        .setClusterId(42).setDataGroups(3).setSeed(SEED)).build());
    assertThat(same.ok()).isTrue();
    assertThat(same.result().getApplied()).isFalse();
    var other = apply(s, MetadataCommand.newBuilder().setBootstrap(Bootstrap.newBuilder()
        .setClusterId(43).setDataGroups(3).setSeed(SEED)).build());
    assertThat(other.result().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
    assertThat(other.state()).isSameAs(s);
  }

  @Test
  void shouldRefuseEverythingBeforeBootstrap() {
    var r = apply(MetadataState.getDefaultInstance(), upsert(node(2, "a:1")));
    assertThat(r.result().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
    assertThat(r.result().getMessage()).contains("not bootstrapped");
  }

  @Test
  void shouldRejectIdAndAddressCollisionsWithoutChangingState() {
    MetadataState s = bootstrapped();
    var sameIdOtherAddr = apply(s, upsert(node(1, "10.0.0.9:7100")));
    assertThat(sameIdOtherAddr.result().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS.value());
    assertThat(sameIdOtherAddr.result().getMessage())
        .isEqualTo("node_id 1 already registered with different address 10.0.0.1:7100 (request: 10.0.0.9:7100)");
    assertThat(sameIdOtherAddr.state()).isSameAs(s);

    var otherIdSameAddr = apply(s, upsert(node(2, "10.0.0.1:7100")));
    assertThat(otherIdSameAddr.result().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS.value());
    assertThat(otherIdSameAddr.state()).isSameAs(s);

    var replaced = apply(s, MetadataCommand.newBuilder().setUpsertNode(UpsertNode.newBuilder()
        .setNode(node(1, "10.0.0.9:7100")).setReplaceAddress(true)).build());
    assertThat(replaced.ok()).isTrue();
    assertThat(replaced.state().getNodes(0).getAddr()).isEqualTo("10.0.0.9:7100");
  }

  @Test
  void shouldBumpVersionOnTopologyChangesOnly() {
    MetadataState s = bootstrapped();
    s = apply(s, upsert(node(2, "10.0.0.2:7100"))).state();
    assertThat(s.getTopologyVersion()).isEqualTo(2);
    var again = apply(s, upsert(node(2, "10.0.0.2:7100")));
    assertThat(again.result().getApplied()).isFalse();
    assertThat(again.state().getTopologyVersion()).isEqualTo(2);

    s = apply(s, MetadataCommand.newBuilder().setSetNodeState(SetNodeState.newBuilder()
        .setNodeId(2).setState(NodeState.LEARNER)).build()).state();
    assertThat(s.getTopologyVersion()).isEqualTo(3);
    s = apply(s, MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder().setRoute(GroupRoute.newBuilder()
        .setGroupId(2).addVoters(1).addLearners(2))).build()).state();
    assertThat(s.getTopologyVersion()).isEqualTo(4);
    s = apply(s, MetadataCommand.newBuilder().setPutJoinRecord(PutJoinRecord.newBuilder().setRecord(
        JoinRecord.newBuilder().setNodeId(2).setPhase("persist"))).build()).state();
    assertThat(s.getTopologyVersion()).as("join records are not topology").isEqualTo(4);
    assertThat(s.getJoinsList()).hasSize(1);

    var unknown = apply(s, MetadataCommand.newBuilder().setSetNodeState(SetNodeState.newBuilder()
        .setNodeId(9).setState(NodeState.ACTIVE)).build());
    assertThat(unknown.result().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());
    var badGroup = apply(s, MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder()
        .setRoute(GroupRoute.newBuilder().setGroupId(4))).build());
    assertThat(badGroup.result().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
  }

  @Test
  void shouldRemoveNodeFromTopologyAndEveryRoute() {
    MetadataState s = bootstrapped();
    s = apply(s, upsert(node(2, "10.0.0.2:7100"))).state();
    s = apply(s, MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder().setRoute(GroupRoute.newBuilder()
        .setGroupId(1).addVoters(1).addLearners(2).setLeaderHint(1))).build()).state();
    MetadataState removed = apply(s, MetadataCommand.newBuilder().setRemoveNode(RemoveNode.newBuilder().setNodeId(2)).build()).state();
    assertThat(removed.getNodesList()).extracting(NodeRecord::getNodeId).containsExactly(1L);
    assertThat(MetadataApplier.findRoute(removed, 1).getLearnersList()).isEmpty();
    assertThat(removed.getTopologyVersion()).isEqualTo(s.getTopologyVersion() + 1);
    var again = apply(removed, MetadataCommand.newBuilder().setRemoveNode(RemoveNode.newBuilder().setNodeId(2)).build());
    assertThat(again.state()).isSameAs(removed);
  }

  @Test
  void shouldApplyBatchAllOrNothingAsOneVersion() {
    MetadataState s = bootstrapped();
    MetadataCommand good = MetadataCommand.newBuilder().setBatch(io.joinflow.proto.v1.Batch.newBuilder()
        .addCommands(upsert(node(2, "10.0.0.2:7100")))
        .addCommands(MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder().setRoute(GroupRoute.newBuilder()
            .setGroupId(1).addVoters(1).addLearners(2))))).build();
    var ok = apply(s, good);
    assertThat(ok.ok()).isTrue();
    assertThat(ok.state().getTopologyVersion()).isEqualTo(s.getTopologyVersion() + 1);
    assertThat(ok.state().getNodesCount()).isEqualTo(2);

    MetadataCommand bad = MetadataCommand.newBuilder().setBatch(io.joinflow.proto.v1.Batch.newBuilder()
        .addCommands(upsert(node(3, "10.0.0.3:7100")))
        .addCommands(upsert(node(1, "10.0.0.9:7100")))).build();
    var refused = apply(s, bad);
    assertThat(refused.result().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS.value());
    assertThat(refused.state()).as("nothing of a refused batch applies").isSameAs(s);
  }

  @Test
  void shouldBoundTheTopologyAndItsStrings() {
    MetadataState s = bootstrapped();
    for (long id = 2; id <= MetadataApplier.MAX_NODES; id++) {
      s = apply(s, upsert(node(id, "10.0." + (id / 250) + "." + (id % 250) + ":7100"))).state();
    }
    assertThat(s.getNodesCount()).isEqualTo(MetadataApplier.MAX_NODES);
    var full = apply(s, upsert(node(9999, "10.9.9.9:7100")));
    assertThat(full.result().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
    assertThat(full.result().getMessage()).contains("holds 512 nodes, the most it keeps");
    assertThat(full.state()).isSameAs(s);
    // A node already in the topology may still change at the bound.
    var moved = apply(s, MetadataCommand.newBuilder().setSetNodeState(SetNodeState.newBuilder().setNodeId(2)
        .setState(NodeState.LEARNER)).build());
    assertThat(moved.ok()).isTrue();

    var longAddr = apply(bootstrapped(), upsert(node(2, "h".repeat(MetadataApplier.MAX_ADDR_CHARS) + ":1")));
    assertThat(longAddr.result().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(longAddr.result().getMessage()).isEqualTo("node 2: addr is 264 characters, at most 262");
    var longOutcome = apply(bootstrapped(), join(1, "x".repeat(MetadataApplier.MAX_OUTCOME_CHARS + 1), 5));
    assertThat(longOutcome.result().getMessage()).isEqualTo("join record of node 1: outcome is 513 characters, at most 512");
    var groups = apply(MetadataState.getDefaultInstance(), MetadataCommand.newBuilder().setBootstrap(
        Bootstrap.newBuilder().setClusterId(42).setDataGroups(MetadataApplier.MAX_DATA_GROUPS + 1).setSeed(SEED)).build());
    assertThat(groups.result().getMessage()).isEqualTo("at most 4096 data groups, not 4097");
  }

  @Test
  void shouldKeepTheJoinRecordsOfMembersAndOnlyTheNewestOfNodesThatAreGone() {
    MetadataState s = apply(bootstrapped(), join(1, "succeeded", 1)).state();
    int gone = MetadataApplier.MAX_DEAD_JOINS + 40;
    for (int i = 0; i < gone; i++) {
      s = apply(s, join(100 + i, "compensated: node died", 10 + i)).state();
    }
    assertThat(s.getJoinsCount()).isEqualTo(MetadataApplier.MAX_DEAD_JOINS + 1);
    // The seed's record is the oldest of all, and kept: node 1 is in the topology.
    assertThat(s.getJoinsList()).extracting(JoinRecord::getNodeId).contains(1L)
        .doesNotContain(100L, 139L).contains(140L, 100L + gone - 1);
  }

  private static MetadataCommand join(long nodeId, String outcome, long at) {
    return MetadataCommand.newBuilder().setPutJoinRecord(PutJoinRecord.newBuilder().setRecord(JoinRecord.newBuilder()
        .setNodeId(nodeId).setWorkflowId("join-" + nodeId).setPhase("persist").setOutcome(outcome)
        .setUpdatedAtMillis(at))).build();
  }
}
