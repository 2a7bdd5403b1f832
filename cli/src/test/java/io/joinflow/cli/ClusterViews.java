package io.joinflow.cli;

import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;

/** A hand-built two-node view shared by the rendering tests. */
final class ClusterViews {
  /** 2^64 - 2 as a signed long: exercises unsigned rendering of uint64 fields. */
  static final long HUGE_CLUSTER_ID = -2L;

  private ClusterViews() {}

  static ClusterView twoNodes() {
    return ClusterView.newBuilder()
        .setClusterId(HUGE_CLUSTER_ID)
        .setTopologyVersion(7)
        .setDataGroups(1)
        .setAnsweredBy(1)
        .addNodes(NodeRecord.newBuilder().setNodeId(1).setAddr("127.0.0.1:7101")
            .setRaftAddr("127.0.0.1:7102").setState(NodeState.ACTIVE))
        .addNodes(NodeRecord.newBuilder().setNodeId(2).setAddr("127.0.0.1:7201")
            .setRaftAddr("127.0.0.1:7202").setState(NodeState.LEARNER))
        .addGroups(GroupView.newBuilder().setGroupId(0).setLeader(1).addVoters(1).setCommitIndex(12))
        .addGroups(GroupView.newBuilder().setGroupId(1).setLeader(0).addVoters(1).addLearners(2)
            .setCommitIndex(5))
        .build();
  }
}
