package io.joinflow.node.topology;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.node.local.LocalIdentity;
import io.joinflow.node.catalog.Catalog;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.TopologyUpdate;
import java.util.Optional;

/**
 * Where pushed topologies arrive (a node not in group 0 learns the cluster only from them).
 * Accepts an update when it is newer than what this node holds (W9, W11): a snapshot of another
 * cluster is refused; an older or equal version is acknowledged and ignored. A newer one is
 * checked against the group 0 it claims to come from before it is kept (H5): that group must
 * answer for its cluster id and hold at least its version, so neither a made-up cluster id
 * (which an empty node would adopt) nor a version from the future (which would make the node
 * ignore every real update after it) is kept. The update and the identity it implies are
 * written in one catalog batch (W6).
 */
public final class TopologyInbox {
  /** Group 0 of a cluster, read through its leader, located from what the update names. */
  @FunctionalInterface
  public interface Group0Reader {
    MetadataState readOf(long clusterId, MetadataState claimed, long atLeast) throws StatusException;
  }

  private final LocalIdentity identity;
  private final Catalog catalog;
  private final Group0Reader group0;

  public TopologyInbox(LocalIdentity identity, Catalog catalog, Group0Reader group0) {
    this.identity = identity;
    this.catalog = catalog;
    this.group0 = group0;
  }

  /** The outcome of a topology update. */
  public record Ack(long version, boolean applied) {}

  /**
   * @return the version held after the update and whether it was applied
   */
  public Ack apply(TopologyUpdate update) throws StatusException {
    if (update.getClusterId() == 0 || update.getState().getClusterId() != update.getClusterId()) {
      throw Status.INVALID_ARGUMENT.withDescription("topology update needs a cluster_id matching its state")
          .asException();
    }
    if (update.getVersion() != update.getState().getTopologyVersion()) {
      throw Status.INVALID_ARGUMENT.withDescription("topology update version " + Long.toUnsignedString(update.getVersion())
          + " differs from its state's topology_version " + Long.toUnsignedString(update.getState().getTopologyVersion()))
          .asException();
    }
    Optional<Ack> settled = settledWithoutReading(update);
    if (settled.isPresent()) {
      return settled.get();
    }
    // Outside the lock: the read is a round trip to group 0's leader.
    MetadataState current = group0.readOf(update.getClusterId(), update.getState(), update.getVersion());
    if (current.getClusterId() != update.getClusterId()) {
      throw Status.FAILED_PRECONDITION.withDescription("group 0 answered for cluster "
          + Long.toUnsignedString(current.getClusterId()) + ", not " + Long.toUnsignedString(update.getClusterId()))
          .asException();
    }
    if (Long.compareUnsigned(update.getVersion(), current.getTopologyVersion()) > 0) {
      throw Status.FAILED_PRECONDITION.withDescription("topology version " + Long.toUnsignedString(update.getVersion())
          + " is ahead of group 0's " + Long.toUnsignedString(current.getTopologyVersion())
          + "; only versions group 0 has reached are kept").asException();
    }
    synchronized (this) {
      Optional<Ack> raced = settledWithoutReading(update);
      if (raced.isPresent()) {
        return raced.get();
      }
      Catalog.Identity id = identity.get();
      Catalog.Identity next = id.clusterId() != 0 ? id
          : id.withCluster(update.getClusterId(), update.getState().getDataGroups(), false);
      catalog.writeTopologyUpdate(update, next);
      identity.persisted(next);
      return new Ack(update.getVersion(), true);
    }
  }

  /** The answer without asking group 0: another cluster's update refused, an old one ignored. */
  private synchronized Optional<Ack> settledWithoutReading(TopologyUpdate update) throws StatusException {
    Catalog.Identity id = identity.get();
    if (id.clusterId() != 0 && id.clusterId() != update.getClusterId()) {
      throw Status.FAILED_PRECONDITION.withDescription("node " + Long.toUnsignedString(identity.nodeId())
          + " belongs to cluster " + Long.toUnsignedString(id.clusterId()) + ", not "
          + Long.toUnsignedString(update.getClusterId())).asException();
    }
    long held = catalog.topologyUpdate().map(TopologyUpdate::getVersion).orElse(0L);
    if (Long.compareUnsigned(update.getVersion(), held) <= 0) {
      return Optional.of(new Ack(held, false));
    }
    return Optional.empty();
  }
}
