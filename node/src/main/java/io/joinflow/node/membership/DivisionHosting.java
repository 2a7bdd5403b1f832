package io.joinflow.node.membership;

import io.joinflow.node.raft.RaftClients;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;

/**
 * Which node hosts a division of which group: creating, hosting and dropping divisions on any
 * node through Ratis' group management API. Each call is idempotent.
 */
public final class DivisionHosting {
  private final RaftClients clients;

  public DivisionHosting(RaftClients clients) {
    this.clients = clients;
  }

  /**
   * Makes {@code target} host a division of the group with {@code voters} as peers and itself
   * as LISTENER (never an empty peer list: RATIS.md). Hosting it already is success.
   *
   * @return false when the division already existed
   */
  public boolean hostDivision(RaftGroupId groupId, RaftPeer target, List<RaftPeer> voters) throws IOException {
    List<RaftPeer> peers = new ArrayList<>();
    for (RaftPeer v : voters) {
      if (!v.getId().equals(target.getId())) {
        peers.add(RaftPeer.newBuilder(v).setStartupRole(RaftPeerRole.FOLLOWER).build());
      }
    }
    peers.add(RaftPeer.newBuilder(target).setStartupRole(RaftPeerRole.LISTENER).build());
    return add(groupId, target, peers);
  }

  /**
   * Creates a group's division on {@code target} with every peer of {@code voters} as a voter
   * (bootstraps). An existing division is success.
   *
   * @return false when the division already existed
   */
  public boolean createGroup(RaftGroupId groupId, RaftPeer target, List<RaftPeer> voters) throws IOException {
    return add(groupId, target, voters);
  }

  private boolean add(RaftGroupId groupId, RaftPeer target, List<RaftPeer> peers) throws IOException {
    try {
      RatisCalls.call(() -> clients.forPeer(groupId, target).getGroupManagementApi(target.getId())
          .add(RaftGroup.valueOf(groupId, peers)));
      return true;
    } catch (AlreadyExistsException e) {
      return false;
    }
  }

  /**
   * Removes the group's division from {@code target} and deletes its storage.
   *
   * @return false when it hosted no such division
   */
  public boolean dropDivision(RaftGroupId groupId, RaftPeer target) throws IOException {
    try {
      RatisCalls.call(() -> clients.forPeer(groupId, target).getGroupManagementApi(target.getId())
          .remove(groupId, true, false));
      return true;
    } catch (GroupMismatchException e) {
      return false;
    } catch (IOException e) {
      if (e.getCause() instanceof GroupMismatchException
          || String.valueOf(e.getMessage()).contains("not found")) {
        return false;
      }
      throw e;
    }
  }
}
