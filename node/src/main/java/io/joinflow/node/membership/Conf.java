package io.joinflow.node.membership;

import io.joinflow.node.raft.ClusterIds;
import java.util.List;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * A group's configuration as its leader sees it: voters, listeners (joinflow's learners),
 * whether a change is in flight (an old configuration is still part of it), the leader's
 * commit index, the commit indexes the leader knows of each member and the leader's term.
 */
public record Conf(RaftPeer leader, List<RaftPeer> voters, List<RaftPeer> listeners,
                   boolean changing, long leaderCommitIndex, List<CommitInfoProto> commitInfos, long leaderTerm) {
  public boolean isVoter(RaftPeerId id) {
    return voters.stream().anyMatch(p -> p.getId().equals(id));
  }

  public boolean isListener(RaftPeerId id) {
    return listeners.stream().anyMatch(p -> p.getId().equals(id));
  }

  /** This conf after a committed change to {@code newVoters} and {@code newListeners}. */
  public Conf withMembers(List<RaftPeer> newVoters, List<RaftPeer> newListeners) {
    return new Conf(leader, List.copyOf(newVoters), List.copyOf(newListeners), false, leaderCommitIndex,
        commitInfos, leaderTerm);
  }

  public List<Long> voterIds() {
    return voters.stream().map(p -> ClusterIds.nodeId(p.getId())).sorted().toList();
  }

  public List<Long> listenerIds() {
    return listeners.stream().map(p -> ClusterIds.nodeId(p.getId())).sorted().toList();
  }
}
