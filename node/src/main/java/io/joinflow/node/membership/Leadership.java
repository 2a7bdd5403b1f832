package io.joinflow.node.membership;

import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.RaftClients;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.util.ProtoUtils;

/** Moving a group's leadership (a leave drains its node's leaderships first). */
public final class Leadership {
  private final RaftClients clients;
  private final ConfReader confs;

  public Leadership(RaftClients clients, ConfReader confs) {
    this.clients = clients;
    this.confs = confs;
  }

  /**
   * Moves a group's leadership away from {@code node} to another voter, preferring the voter
   * whose commit index is highest. A group {@code node} does not lead is left as it is.
   *
   * @return the leader afterwards, or null when {@code node} did not lead the group
   * @throws MembershipException (not retryable) when no other voter exists
   */
  public RaftPeerId transferLeadershipAway(RaftGroupId groupId, RaftPeerId node, Collection<RaftPeer> candidates,
                                           Duration timeout) throws IOException {
    Conf conf = confs.readConf(groupId, candidates);
    if (!conf.leader().getId().equals(node)) {
      return null;
    }
    Map<RaftPeerId, Long> commit = new HashMap<>();
    for (CommitInfoProto ci : conf.commitInfos()) {
      commit.put(ProtoUtils.toRaftPeer(ci.getServer()).getId(), ci.getCommitIndex());
    }
    RaftPeer next = conf.voters().stream().filter(p -> !p.getId().equals(node))
        .max(Comparator.comparingLong(p -> commit.getOrDefault(p.getId(), 0L)))
        .orElseThrow(() -> new MembershipException("group " + ClusterIds.groupNumber(groupId) + ": " + node
            + " is its only voter; no other voter can take over its leadership", false, null));
    RaftClientReply reply = RatisCalls.call(() -> clients.forGroup(groupId, conf.voters()).admin()
        .transferLeadership(next.getId(), timeout.toMillis()));
    if (!reply.isSuccess()) {
      throw new MembershipException("group " + ClusterIds.groupNumber(groupId) + ": moving leadership from "
          + node + " to " + next.getId() + " failed: " + reply.getException(), true, reply.getException());
    }
    return next.getId();
  }
}
