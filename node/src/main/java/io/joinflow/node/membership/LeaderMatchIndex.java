package io.joinflow.node.membership;

import java.io.IOException;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;

/**
 * The leader's view of a follower's log: its match index, the last index the leader knows the
 * follower holds. It is known one round trip after the leader sent the entries, where the
 * follower's own commit index waits for the next AppendEntries (with nothing else to send, a
 * heartbeat: half the minimum election timeout).
 *
 * <p>Only the process that hosts a group's leader can read it: Ratis 3.3.0 sends no match index
 * over the wire ({@code LeaderInfoProto} lists followers with their last RPC time only). In
 * process, {@link DivisionInfo#getFollowerMatchIndices()} is a bare {@code long[]}; it and the
 * role info's follower list both walk the leader's log appenders in order, so reading the list,
 * the indices and the list again, and pairing them only when both lists agree, names each
 * index.
 */
public final class LeaderMatchIndex {
  private static final int ATTEMPTS = 3;

  private final Supplier<RaftServer> server;

  /** @param server this node's Ratis server, null until it started */
  public LeaderMatchIndex(Supplier<RaftServer> server) {
    this.server = server;
  }

  /** A node whose Ratis server hosts no leader (tests, tools). */
  public static LeaderMatchIndex none() {
    return new LeaderMatchIndex(() -> null);
  }

  /**
   * The match index of {@code follower} in the group, if this node's server hosts the group's
   * leader and the follower is one of its followers; empty otherwise.
   */
  public OptionalLong of(RaftGroupId groupId, RaftPeerId follower) {
    RaftServer s = server.get();
    if (s == null) {
      return OptionalLong.empty();
    }
    DivisionInfo info;
    try {
      info = s.getDivision(groupId).getInfo();
    } catch (IOException e) {
      return OptionalLong.empty();
    }
    for (int i = 0; i < ATTEMPTS; i++) {
      if (!info.isLeader()) {
        return OptionalLong.empty();
      }
      List<ServerRpcProto> before = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
      long[] match = info.getFollowerMatchIndices();
      List<ServerRpcProto> after = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
      if (match == null) {
        return OptionalLong.empty();
      }
      if (match.length != before.size() || !ids(before).equals(ids(after))) {
        // An appender was added or removed between the reads (a configuration change).
        continue;
      }
      List<String> ids = ids(before);
      int at = ids.indexOf(follower.toString());
      return at < 0 ? OptionalLong.empty() : OptionalLong.of(match[at]);
    }
    return OptionalLong.empty();
  }

  private static List<String> ids(List<ServerRpcProto> followers) {
    return followers.stream().map(f -> f.getId().getId().toStringUtf8()).toList();
  }
}
