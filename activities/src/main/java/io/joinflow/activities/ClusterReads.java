package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.rpc;

import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.TopologyChange;
import java.util.Objects;

/**
 * The cluster reads and group-0 writes an activity makes, each the narrowest that answers its
 * question: {@link #metadata} for group 0's records, {@link #group} for one group's live
 * configuration, {@link #view} only where every group's live state matters, and
 * {@link #change} for the group-0 changes of joins, promotions and leaves. Every status a
 * call ends with is thrown as the matching {@link NodeAdminFailures} failure.
 */
final class ClusterReads {
  private final NodeAdminPool pool;

  ClusterReads(NodeAdminPool pool) {
    this.pool = Objects.requireNonNull(pool, "pool");
  }

  /** Group 0 and every group's live state (one leader read per group). */
  ClusterView view() {
    return rpc(pool::clusterView);
  }

  /** Group 0's state alone: cluster id, topology, routing, join records. */
  MetadataState metadata() {
    return rpc(pool::metadata);
  }

  /** One group's live state; NOT_FOUND (non-retryable) for a group the cluster lacks. */
  GroupView group(int group) {
    return rpc(() -> pool.group(group));
  }

  /** A typed group-0 change, checked and written by the node (one all-or-nothing batch). */
  MetadataResult change(TopologyChange change) {
    return rpc(() -> pool.changeTopology(change));
  }
}
