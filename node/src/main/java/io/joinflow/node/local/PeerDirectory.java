package io.joinflow.node.local;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.MetadataApplier;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.ratis.protocol.RaftPeer;

/** The Ratis peers of the cluster's nodes, as group 0's topology and this node's divisions name them. */
public final class PeerDirectory {
  private final LocalIdentity identity;
  private final GroupDivisions divisions;
  private final RaftPeer self;

  public PeerDirectory(LocalIdentity identity, GroupDivisions divisions) {
    this.identity = identity;
    this.divisions = divisions;
    this.self = peer(identity.nodeId(), identity.raftListen().toString());
  }

  public static RaftPeer peer(long nodeId, String raftAddr) {
    return RaftPeer.newBuilder().setId(ClusterIds.peerId(nodeId)).setAddress(raftAddr).build();
  }

  public RaftPeer self() {
    return self;
  }

  /** The Ratis peer of a node in the topology. */
  public RaftPeer peerOf(MetadataState state, long nodeId) throws StatusException {
    if (nodeId == identity.nodeId()) {
      return self;
    }
    NodeRecord n = MetadataApplier.findNode(state, nodeId);
    if (n == null) {
      throw Status.NOT_FOUND.withDescription("node " + Long.toUnsignedString(nodeId)
          + " is not in the topology; register it first").asException();
    }
    return peer(nodeId, n.getRaftAddr());
  }

  /**
   * Peers to ask about a group: this node's division's conf when it hosts one, plus the
   * members that routing names.
   */
  public Collection<RaftPeer> candidates(MetadataState state, int group) {
    Map<Object, RaftPeer> out = new LinkedHashMap<>();
    divisions.division(group).ifPresent(d -> d.getRaftConf().getAllPeers().forEach(p -> out.put(p.getId(), p)));
    GroupRoute route = MetadataApplier.findRoute(state, group);
    if (route != null) {
      List<Long> ids = new ArrayList<>(route.getVotersList());
      ids.addAll(route.getLearnersList());
      for (long id : ids) {
        NodeRecord n = MetadataApplier.findNode(state, id);
        if (n != null) {
          out.putIfAbsent(ClusterIds.peerId(id), peer(id, n.getRaftAddr()));
        }
      }
    }
    return out.values();
  }

  /**
   * The peers a Ratis client of the group starts from (it follows leader redirects).
   *
   * @throws StatusException FAILED_PRECONDITION for a node of no cluster, UNAVAILABLE when it
   *     knows no member of the group
   */
  public Collection<RaftPeer> clientPeers(MetadataState known, int group) throws StatusException {
    if (identity.clusterId() == 0) {
      throw Status.FAILED_PRECONDITION.withDescription("node " + Long.toUnsignedString(identity.nodeId())
          + " belongs to no cluster yet; ask a node of the cluster").asException();
    }
    Collection<RaftPeer> peers = candidates(known, group);
    if (peers.isEmpty()) {
      throw Status.UNAVAILABLE.withDescription("node " + Long.toUnsignedString(identity.nodeId())
          + " knows no member of group " + group).asException();
    }
    return peers;
  }
}
