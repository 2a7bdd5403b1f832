package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.reject;

import io.grpc.Status;
import io.joinflow.proto.ClusterViewFacts;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.HandshakeResponse;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.workflows.JoinActivities.ValidateInput;
import io.joinflow.workflows.JoinActivities.ValidateResult;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 1, validate: the request against the cluster and the joining node, changing nothing.
 * It reads the full cluster view: whether a node already joined, or still holds a vote, is a
 * question about every group.
 */
final class JoinValidation {
  private static final Logger LOG = LoggerFactory.getLogger(JoinValidation.class);
  /** The wire version this cluster speaks (NodeDB's JoinRequest.wire_version). */
  static final int WIRE_VERSION = 1;

  private final ClusterReads reads;
  private final PeerHandshake peers;

  JoinValidation(ClusterReads reads, PeerHandshake peers) {
    this.reads = Objects.requireNonNull(reads, "reads");
    this.peers = Objects.requireNonNull(peers, "peers");
  }

  ValidateResult validate(ValidateInput input) {
    long nodeId = input.nodeId();
    HostPort listen = ListenAddresses.parse(nodeId, input.listenAddr());
    String addr = listen.toString();
    ListenAddresses.checkResolvable(listen);
    if (input.wireVersion() != WIRE_VERSION) {
      throw reject(Status.FAILED_PRECONDITION, "unsupported wire_version " + input.wireVersion()
          + "; this cluster speaks " + WIRE_VERSION);
    }
    ClusterView view = reads.view();
    checkCluster(view, input.clusterId());
    NodeRecord existing = ClusterViews.findNode(view.getNodesList(), nodeId);
    if (existing != null && !existing.getAddr().equals(addr)) {
      // NodeDB's text, kept verbatim: operators and scripts recognise it.
      throw reject(Status.ALREADY_EXISTS, "node_id " + Long.toUnsignedString(nodeId) + " already registered with different address "
          + existing.getAddr() + " (request: " + addr + ")");
    }
    for (NodeRecord other : view.getNodesList()) {
      if (other.getNodeId() != nodeId && other.getAddr().equals(addr)) {
        throw reject(Status.ALREADY_EXISTS, "listen_addr " + addr + " is already used by node "
            + Long.toUnsignedString(other.getNodeId()));
      }
    }
    HandshakeResponse hs;
    try {
      hs = peers.handshake(nodeId, addr, view.getClusterId());
    } catch (ApplicationFailure unreachable) {
      if (!PeerHandshake.unfinishedJoinOf(existing, addr, unreachable)) {
        throw unreachable;
      }
      LOG.warn("node {}: not reachable at {} ({}), but an unfinished join admitted it; going on so this join"
          + " finishes or undoes it", nodeId, addr, unreachable.getOriginalMessage());
      return new ValidateResult(view.getClusterId(), view.getDataGroups(), false, ClusterViews.snapshot(view));
    }
    if (hs.getWireVersion() != 0 && hs.getWireVersion() != WIRE_VERSION) {
      throw reject(Status.FAILED_PRECONDITION, "node " + Long.toUnsignedString(nodeId) + " at " + addr + " speaks wire_version "
          + hs.getWireVersion() + "; this cluster speaks " + WIRE_VERSION);
    }
    boolean alreadyJoined = false;
    if (existing != null) {
      if (!existing.getIncarnation().equals(hs.getIncarnation())) {
        checkReincarnation(view, existing, addr, hs.getIncarnation());
      } else if ((existing.getState() == NodeState.LEARNER || existing.getState() == NodeState.ACTIVE)
          && ClusterViewFacts.missingGroups(view, nodeId).isEmpty()) {
        alreadyJoined = true;
      }
    }
    LOG.info("node {}: validated {} for cluster {}{}", nodeId, addr, Long.toUnsignedString(view.getClusterId()),
        alreadyJoined ? " (already joined)" : "");
    return new ValidateResult(view.getClusterId(), view.getDataGroups(), alreadyJoined, ClusterViews.snapshot(view));
  }

  /**
   * W10: the node at the registered address answers with another incarnation, so it lost its
   * data dir since it joined. Its old self may still hold a vote (or a learner seat that never
   * catches up again); treating the newcomer as that node would give a vote back to an empty
   * log, a Raft safety hazard, and re-adding it cannot be done behind the operator's back
   * either: taking a vote away shrinks quorums and is the business of leave. So the join is
   * refused, unchanged, until the old node is gone: decommissioned and in no group.
   */
  static void checkReincarnation(ClusterView view, NodeRecord existing, String addr, String incarnation) {
    long nodeId = existing.getNodeId();
    String id = Long.toUnsignedString(nodeId);
    List<Integer> voterOf = new ArrayList<>();
    List<Integer> learnerOf = new ArrayList<>();
    for (GroupView g : view.getGroupsList()) {
      if (g.getVotersList().contains(nodeId)) {
        voterOf.add(g.getGroupId());
      } else if (g.getLearnersList().contains(nodeId)) {
        learnerOf.add(g.getGroupId());
      }
    }
    if (existing.getState() == NodeState.DECOMMISSIONED && voterOf.isEmpty() && learnerOf.isEmpty()) {
      LOG.info("node {}: decommissioned as incarnation {}; {} joins again as incarnation {}", id,
          existing.getIncarnation(), addr, incarnation);
      return;
    }
    ClusterViews.requireLeaders(view, "cannot tell whether the old node " + id + " still holds a vote");
    String held = !voterOf.isEmpty()
        ? "is still a voter of " + ClusterViewFacts.groups(voterOf)
            + "; giving that vote to a node with an empty log would risk the groups' committed data"
        : !learnerOf.isEmpty()
            ? "is still a learner of " + ClusterViewFacts.groups(learnerOf)
            : "is still " + existing.getState() + " in the topology";
    String remedy = existing.getState() == NodeState.JOINING
        ? "let the old node's join finish or compensate (see joinflow joins), decommission it with"
            + " joinflow leave " + id + " if it joined, then join again"
        : "remove the old node first with joinflow leave " + id + ", then join again";
    throw reject(Status.FAILED_PRECONDITION, "node " + id + " at " + addr + " lost its data: it joined as"
        + " incarnation " + existing.getIncarnation() + " but now answers as " + incarnation + ", and the old node "
        + held + "; " + remedy);
  }

  private static void checkCluster(ClusterView view, long clusterId) {
    if (view.getClusterId() == 0) {
      throw reject(Status.FAILED_PRECONDITION, "the cluster has no cluster id yet; bootstrap it before joining nodes");
    }
    if (view.getClusterId() != clusterId) {
      throw reject(Status.FAILED_PRECONDITION, "the join names cluster " + Long.toUnsignedString(clusterId)
          + " but the cluster this worker serves is " + Long.toUnsignedString(view.getClusterId())
          + " (answered by node " + view.getAnsweredBy() + ")");
    }
  }
}
