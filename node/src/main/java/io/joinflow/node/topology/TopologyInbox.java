package io.joinflow.node.topology;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.node.local.LocalIdentity;
import io.joinflow.node.catalog.Catalog;
import io.joinflow.proto.v1.TopologyUpdate;

/**
 * Where pushed topologies arrive (a node not in group 0 learns the cluster only from them).
 * Accepts an update when it is newer than what this node holds (W9, W11): a snapshot of another
 * cluster is refused; an older or equal version is acknowledged and ignored. The update and the
 * identity it implies are written in one catalog batch (W6).
 */
public final class TopologyInbox {
  private final LocalIdentity identity;
  private final Catalog catalog;

  public TopologyInbox(LocalIdentity identity, Catalog catalog) {
    this.identity = identity;
    this.catalog = catalog;
  }

  /** The outcome of a topology update. */
  public record Ack(long version, boolean applied) {}

  /**
   * @return the version held after the update and whether it was applied
   */
  public synchronized Ack apply(TopologyUpdate update) throws StatusException {
    Catalog.Identity id = identity.get();
    if (update.getClusterId() == 0 || update.getState().getClusterId() != update.getClusterId()) {
      throw Status.INVALID_ARGUMENT.withDescription("topology update needs a cluster_id matching its state")
          .asException();
    }
    if (id.clusterId() != 0 && id.clusterId() != update.getClusterId()) {
      throw Status.FAILED_PRECONDITION.withDescription("node " + Long.toUnsignedString(identity.nodeId())
          + " belongs to cluster " + Long.toUnsignedString(id.clusterId()) + ", not "
          + Long.toUnsignedString(update.getClusterId())).asException();
    }
    long held = catalog.topologyUpdate().map(TopologyUpdate::getVersion).orElse(0L);
    if (update.getVersion() <= held) {
      return new Ack(held, false);
    }
    Catalog.Identity next = id.clusterId() != 0 ? id
        : id.withCluster(update.getClusterId(), update.getState().getDataGroups(), false);
    catalog.writeTopologyUpdate(update, next);
    identity.persisted(next);
    return new Ack(update.getVersion(), true);
  }
}
