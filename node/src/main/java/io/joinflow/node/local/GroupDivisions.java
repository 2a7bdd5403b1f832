package io.joinflow.node.local;

import io.joinflow.node.raft.ClusterIds;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;

/** The divisions this node's Ratis server hosts, by group number. */
public final class GroupDivisions {
  private final RaftServer server;
  private final LocalIdentity identity;

  public GroupDivisions(RaftServer server, LocalIdentity identity) {
    this.server = server;
    this.identity = identity;
  }

  /** The Ratis group id of a group of this node's cluster. */
  public RaftGroupId groupId(int group) {
    return ClusterIds.groupId(identity.clusterId(), group);
  }

  /** This node's division of a group, if it hosts one. */
  public Optional<RaftServer.Division> division(int group) {
    if (identity.clusterId() == 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(server.getDivision(groupId(group)));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  public boolean hosts(RaftGroupId gid) {
    for (RaftGroupId g : server.getGroupIds()) {
      if (g.equals(gid)) {
        return true;
      }
    }
    return false;
  }

  /** Groups hosted by this node (group numbers), sorted. */
  public List<Integer> hosted() {
    List<Integer> out = new ArrayList<>();
    for (RaftGroupId g : server.getGroupIds()) {
      out.add(ClusterIds.groupNumber(g));
    }
    out.sort(null);
    return out;
  }
}
