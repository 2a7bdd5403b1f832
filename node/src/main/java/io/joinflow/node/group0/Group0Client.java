package io.joinflow.node.group0;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.node.local.GroupDivisions;
import io.joinflow.node.local.PeerDirectory;
import io.joinflow.node.errors.StatusMapping;
import io.joinflow.node.catalog.Catalog;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.MetadataStateMachine;
import io.joinflow.node.raft.RaftClients;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.TopologyUpdate;
import java.io.IOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Group 0 as this node uses it: commands appended through its leader, its state read through
 * its leader (a linearizable read), and the state this node knows without asking anyone.
 */
public final class Group0Client {
  private final RaftClients clients;
  private final GroupDivisions divisions;
  private final PeerDirectory peers;
  private final Catalog catalog;
  private final Supplier<MetadataStateMachine> machine;

  /**
   * @param machine this node's group-0 state machine (null until Ratis created it)
   */
  public Group0Client(RaftClients clients, GroupDivisions divisions, PeerDirectory peers, Catalog catalog,
                      Supplier<MetadataStateMachine> machine) {
    this.clients = clients;
    this.divisions = divisions;
    this.peers = peers;
    this.catalog = catalog;
    this.machine = machine;
  }

  /**
   * Group 0 as this node knows it without asking anyone: its own replica if it hosts group 0,
   * else the newest pushed topology.
   */
  public MetadataState local() {
    MetadataStateMachine sm = machine.get();
    if (sm != null && sm.state().getClusterId() != 0 && divisions.hosts(divisions.groupId(ClusterIds.METADATA_GROUP))) {
      return sm.state();
    }
    return catalog.topologyUpdate().map(TopologyUpdate::getState)
        .orElse(sm == null ? MetadataState.getDefaultInstance() : sm.state());
  }

  /** Appends a command to group 0 through its leader; a refused command is a status error. */
  public MetadataResult propose(MetadataCommand command) throws StatusException {
    try {
      RaftClientReply reply = clients.forGroup(divisions.groupId(ClusterIds.METADATA_GROUP),
              peers.clientPeers(local(), ClusterIds.METADATA_GROUP))
          .io().send(Message.valueOf(ByteString.copyFrom(command.toByteArray())));
      if (!reply.isSuccess()) {
        throw StatusMapping.toStatusException(reply.getException());
      }
      MetadataResult result = MetadataResult.parseFrom(reply.getMessage().getContent().toByteArray());
      if (result.getCode() != 0) {
        throw Status.fromCodeValue(result.getCode()).withDescription(result.getMessage()).asException();
      }
      return result;
    } catch (IOException e) {
      throw StatusMapping.toStatusException(e);
    }
  }

  /**
   * Group 0's state read through its leader: the read Ratis serves by default, a query of the
   * leader's state machine once the leader applied its own term's first entry. On the leader
   * itself that is the same read without the round trip (every membership call makes one).
   */
  public MetadataState read() throws StatusException {
    Optional<MetadataState> led = asLeader();
    if (led.isPresent()) {
      return led.get();
    }
    return readThrough(divisions.groupId(ClusterIds.METADATA_GROUP),
        peers.clientPeers(local(), ClusterIds.METADATA_GROUP));
  }

  /**
   * Group 0 of cluster {@code clusterId} read through its leader, found from what this node
   * knows of group 0 and from the routing {@code claimed} names (all an empty node has): the
   * group a pushed topology claims to come from, asked what it holds. A cluster id no group 0
   * answers for, at the peers named, is an error (in a secure cluster those peers must hold
   * node certificates of this node's CA). A replica this node hosts that already applied
   * {@code atLeast} answers without asking the leader.
   */
  public MetadataState readOf(long clusterId, MetadataState claimed, long atLeast) throws StatusException {
    RaftGroupId group = ClusterIds.groupId(clusterId, ClusterIds.METADATA_GROUP);
    boolean ours = group.equals(divisions.groupId(ClusterIds.METADATA_GROUP));
    Optional<MetadataState> led = ours ? asLeader() : Optional.empty();
    if (led.isPresent()) {
      return led.get();
    }
    MetadataStateMachine sm = machine.get();
    if (ours && sm != null && divisions.hosts(group) && sm.state().getClusterId() == clusterId
        && Long.compareUnsigned(sm.state().getTopologyVersion(), atLeast) >= 0) {
      // This node's own replica applied that version: group 0 committed it, no round trip needed.
      return sm.state();
    }
    Map<RaftPeerId, RaftPeer> candidates = new LinkedHashMap<>();
    if (ours) {
      peers.candidates(local(), ClusterIds.METADATA_GROUP).forEach(p -> candidates.put(p.getId(), p));
    }
    peers.candidates(claimed, ClusterIds.METADATA_GROUP).forEach(p -> candidates.putIfAbsent(p.getId(), p));
    if (candidates.isEmpty()) {
      throw Status.FAILED_PRECONDITION.withDescription("no member of group 0 is known here or named by the update")
          .asException();
    }
    return readThrough(group, candidates.values());
  }

  /** This node's own group-0 state when it leads group 0 (the read without a round trip). */
  private Optional<MetadataState> asLeader() {
    Optional<RaftServer.Division> local = divisions.division(ClusterIds.METADATA_GROUP);
    if (local.isPresent() && local.get().getInfo().isLeader() && local.get().getInfo().isLeaderReady()
        && local.get().getStateMachine() instanceof MetadataStateMachine sm) {
      return Optional.of(sm.state());
    }
    return Optional.empty();
  }

  private MetadataState readThrough(RaftGroupId group, Collection<RaftPeer> candidates) throws StatusException {
    try {
      RaftClientReply reply = clients.forGroup(group, candidates).io().sendReadOnly(Message.EMPTY);
      if (!reply.isSuccess()) {
        throw StatusMapping.toStatusException(reply.getException());
      }
      return MetadataState.parseFrom(reply.getMessage().getContent().toByteArray());
    } catch (IOException e) {
      throw StatusMapping.toStatusException(e);
    }
  }
}
