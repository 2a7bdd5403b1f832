package io.joinflow.node.raft;

import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Stable Ratis ids: a group's id is derived from (cluster id, group number), a peer's id from
 * its node id, so every node computes the same ids without asking anyone.
 */
public final class ClusterIds {
  /** Group 0 is the metadata group. */
  public static final int METADATA_GROUP = 0;
  /** vShards are mapped to data groups as {@code 1 + i % G}. */
  public static final int VSHARDS = 1024;

  private ClusterIds() {}

  public static RaftGroupId groupId(long clusterId, int group) {
    return RaftGroupId.valueOf(new UUID(clusterId, group));
  }

  /** The group number encoded in a group id of this cluster scheme. */
  public static int groupNumber(RaftGroupId id) {
    return (int) id.getUuid().getLeastSignificantBits();
  }

  public static long clusterIdOf(RaftGroupId id) {
    return id.getUuid().getMostSignificantBits();
  }

  public static RaftPeerId peerId(long nodeId) {
    return RaftPeerId.valueOf("n" + Long.toUnsignedString(nodeId));
  }

  /** The node id of a peer id made by {@link #peerId}; 0 for any other id. */
  public static long nodeId(RaftPeerId peerId) {
    String s = peerId.toString();
    if (s.length() < 2 || s.charAt(0) != 'n') {
      return 0;
    }
    try {
      return Long.parseUnsignedLong(s.substring(1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** The data group that owns a vShard. */
  public static int groupOfVshard(int vshard, int dataGroups) {
    return 1 + vshard % dataGroups;
  }

  /** The vShard of a key: a stable hash (FNV-1a), independent of the JVM. */
  public static int vshardOf(byte[] key) {
    int h = 0x811c9dc5;
    for (byte b : key) {
      h ^= b & 0xff;
      h *= 0x01000193;
    }
    return Integer.remainderUnsigned(h, VSHARDS);
  }
}
