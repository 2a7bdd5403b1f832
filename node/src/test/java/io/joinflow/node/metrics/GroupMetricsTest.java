package io.joinflow.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;

class GroupMetricsTest {

  private static RaftPeer peer(String id) {
    return RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:1").build();
  }

  private static CommitInfoProto commit(String id, long index) {
    return CommitInfoProto.newBuilder().setServer(RaftPeerProto.newBuilder()
        .setId(RaftPeerId.valueOf(id).toByteString())).setCommitIndex(index).build();
  }

  @Test
  void shouldReportTheFurthestBehindLearner() {
    long lag = GroupMetrics.learnerLag(100, List.of(peer("n4"), peer("n5")),
        List.of(commit("n1", 100), commit("n4", 97), commit("n5", 60)));

    assertThat(lag).isEqualTo(40);
  }

  @Test
  void shouldCountALearnerWithoutAnyReplyAsHoldingNothing() {
    assertThat(GroupMetrics.learnerLag(12, List.of(peer("n4")), List.of(commit("n1", 12)))).isEqualTo(12);
  }

  @Test
  void shouldReportNoLagWithoutLearnersOrWhenAhead() {
    assertThat(GroupMetrics.learnerLag(12, List.of(), List.of(commit("n1", 12)))).isZero();
    assertThat(GroupMetrics.learnerLag(12, List.of(peer("n4")), List.of(commit("n4", 13)))).isZero();
  }
}
