package io.joinflow.node;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.node.catalog.Catalog;
import io.joinflow.node.group0.Group0Client;
import io.joinflow.node.local.GroupDivisions;
import io.joinflow.node.local.LocalIdentity;
import io.joinflow.node.local.PeerDirectory;
import io.joinflow.node.membership.Membership;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.MetadataApplier;
import io.joinflow.proto.v1.Bootstrap;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftGroupId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A seed node creating its cluster: a random non-zero cluster id, made durable first; then group 0
 * and the data groups with the seed as their only voter; then group 0's bootstrap entry naming
 * the seed ACTIVE. Every step is checked before it is made, so a seed that crashed half way
 * finishes on its next start.
 */
final class ClusterBootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  private final NodeConfig config;
  private final LocalIdentity identity;
  private final GroupDivisions divisions;
  private final PeerDirectory peers;
  private final Membership membership;
  private final Group0Client group0;

  ClusterBootstrap(NodeConfig config, LocalIdentity identity, GroupDivisions divisions, PeerDirectory peers,
                   Membership membership, Group0Client group0) {
    this.config = config;
    this.identity = identity;
    this.divisions = divisions;
    this.peers = peers;
    this.membership = membership;
    this.group0 = group0;
  }

  /** Creates the cluster once, or reopens it; safe to run again after a crash at any point. */
  void run() throws IOException, NodeStartException {
    Catalog.Identity id = identity.get();
    if (id.clusterId() == 0) {
      long clusterId = 0;
      SecureRandom random = new SecureRandom();
      while (clusterId == 0) {
        clusterId = random.nextLong() & Long.MAX_VALUE;
      }
      id = id.withCluster(clusterId, config.dataGroups(), true);
      identity.update(id);
      LOG.info("node {}: bootstrapping cluster {} with {} data groups", config.nodeId(),
          Long.toUnsignedString(clusterId), config.dataGroups());
    } else if (config.bootstrap() && config.dataGroups() != id.dataGroups()) {
      LOG.warn("node {}: reopening cluster {} with its {} data groups; --groups {} is ignored",
          config.nodeId(), Long.toUnsignedString(id.clusterId()), id.dataGroups(), config.dataGroups());
    }
    // Groups are created after the identity is durable; a crash in between re-creates the
    // missing ones here, and creating an existing one is a no-op.
    for (int g = 0; g <= id.dataGroups(); g++) {
      RaftGroupId gid = ClusterIds.groupId(id.clusterId(), g);
      if (!divisions.hosts(gid) && routeOrNull(g) == null) {
        membership.hosting().createGroup(gid, peers.self(), List.of(peers.self()));
      }
    }
    if (group0.local().getClusterId() == 0) {
      NodeRecord seed = selfRecord(NodeState.ACTIVE);
      MetadataResult r = proposeUntilLeader(MetadataCommand.newBuilder().setBootstrap(Bootstrap.newBuilder()
          .setClusterId(id.clusterId()).setDataGroups(id.dataGroups()).setSeed(seed)).build());
      if (r.getCode() != 0) {
        throw new NodeStartException("bootstrap was refused by group 0: " + r.getMessage());
      }
    }
  }

  private GroupRoute routeOrNull(int g) {
    return MetadataApplier.findRoute(group0.local(), g);
  }

  private MetadataResult proposeUntilLeader(MetadataCommand command) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return group0.propose(command);
      } catch (StatusException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline) {
          throw new IOException(e.getStatus().getDescription(), e);
        }
      }
    }
  }

  private NodeRecord selfRecord(NodeState state) {
    return NodeRecord.newBuilder().setNodeId(config.nodeId()).setAddr(config.listen().toString())
        .setRaftAddr(config.raftListen().toString()).setState(state)
        .setIncarnation(identity.get().incarnation()).setWireVersion(LocalIdentity.WIRE_VERSION).build();
  }
}
