package io.joinflow.activities;

import io.grpc.StatusRuntimeException;
import io.joinflow.proto.JoinAddress;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.TopologyUpdate;
import io.joinflow.proto.v1.TopologyUpdateAck;
import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.BroadcastResult;
import io.temporal.activity.Activity;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 7, broadcast: group 0's state pushed to every node outside group 0 and to the node the
 * workflow is about. It reads group 0's state and group 0's own configuration, nothing else.
 */
final class TopologyBroadcast {
  private static final Logger LOG = LoggerFactory.getLogger(TopologyBroadcast.class);

  private final NodeAdminPool pool;
  private final ClusterReads reads;
  private final ActivitySettings settings;

  TopologyBroadcast(NodeAdminPool pool, ClusterReads reads, ActivitySettings settings) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.reads = Objects.requireNonNull(reads, "reads");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  BroadcastResult broadcast(BroadcastInput input) {
    MetadataState state = reads.metadata();
    TopologyUpdate update = TopologyUpdate.newBuilder()
        .setClusterId(state.getClusterId())
        .setVersion(state.getTopologyVersion())
        .setState(state)
        .build();
    // Members of group 0 replicate topology themselves; everyone else learns it from pushes.
    GroupView group0 = reads.group(0);
    Set<Long> metadataMembers = new HashSet<>(group0.getVotersList());
    metadataMembers.addAll(group0.getLearnersList());
    Map<String, Long> targets = new LinkedHashMap<>();
    for (NodeRecord n : state.getNodesList()) {
      if (!metadataMembers.contains(n.getNodeId())) {
        targets.put(n.getAddr(), n.getNodeId());
      }
    }
    // The joining node is pushed to even when it is in group 0 or no longer in the topology
    // (after compensation): it must hear the outcome.
    try {
      targets.putIfAbsent(JoinAddress.canonical(input.listenAddr()), input.nodeId());
    } catch (IllegalArgumentException e) {
      LOG.warn("node {}: not pushing topology to it: {}", input.nodeId(), e.getMessage());
    }
    List<Long> acked = new ArrayList<>();
    List<String> unreachable = new ArrayList<>();
    for (Map.Entry<String, Long> t : targets.entrySet()) {
      if (push(t.getKey(), t.getValue(), update)) {
        acked.add(t.getValue());
      } else {
        unreachable.add(t.getKey());
      }
    }
    LOG.info("node {}: topology version {} pushed to {} node(s), acked by {}, unreachable {}", input.nodeId(),
        update.getVersion(), targets.size(), acked, unreachable);
    return new BroadcastResult(update.getVersion(), acked, unreachable);
  }

  /** True when the node at {@code addr} holds this version (or a newer one) after the push. */
  private boolean push(String addr, long nodeId, TopologyUpdate update) {
    StatusRuntimeException last = null;
    for (int attempt = 1; attempt <= settings.pushAttempts(); attempt++) {
      try {
        TopologyUpdateAck ack = pool.callAt(addr, "topology update", settings.pushDeadline(),
            stub -> stub.applyTopologyUpdate(update));
        return ack.getVersion() >= update.getVersion();
      } catch (StatusRuntimeException e) {
        last = e;
        if (!NodeAdminFailures.retryable(e.getStatus().getCode())) {
          break;
        }
        if (attempt < settings.pushAttempts()) {
          try {
            Thread.sleep(100L * attempt);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw Activity.wrap(ie);
          }
        }
      }
    }
    LOG.warn("node {}: topology version {} not delivered to {}: {}", nodeId, update.getVersion(), addr,
        last == null ? "no answer" : last.getStatus());
    return false;
  }
}
