package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.reject;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.v1.HandshakeRequest;
import io.joinflow.proto.v1.HandshakeResponse;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.workflows.JoinActivities.PeerInfo;
import io.joinflow.workflows.JoinActivities.RegisterInput;
import io.joinflow.workflows.JoinFailures;
import io.temporal.failure.ApplicationFailure;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The joining node's side of a join: who it is (validate) and its raft address (registerPeer). */
final class PeerHandshake {
  private static final Logger LOG = LoggerFactory.getLogger(PeerHandshake.class);

  private final NodeAdminPool pool;
  private final ClusterReads reads;

  PeerHandshake(NodeAdminPool pool, ClusterReads reads) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.reads = Objects.requireNonNull(reads, "reads");
  }

  /** Step 2: the peer's raft address and incarnation, from the node itself. */
  PeerInfo register(RegisterInput input) {
    String addr = ListenAddresses.canonical(input.nodeId(), input.listenAddr());
    HandshakeResponse hs;
    try {
      hs = handshake(input.nodeId(), addr, input.clusterId());
    } catch (ApplicationFailure unreachable) {
      NodeRecord admitted = JoinFailures.UNAVAILABLE.equals(unreachable.getType())
          ? ClusterViews.findNode(reads.metadata().getNodesList(), input.nodeId()) : null;
      if (!unfinishedJoinOf(admitted, addr, unreachable)) {
        throw unreachable;
      }
      LOG.warn("node {}: not reachable at {} ({}); keeping the peer an unfinished join registered (raft {},"
          + " incarnation {})", input.nodeId(), addr, unreachable.getOriginalMessage(), admitted.getRaftAddr(),
          admitted.getIncarnation());
      return new PeerInfo(admitted.getRaftAddr(), admitted.getIncarnation());
    }
    if (hs.getRaftAddr().isEmpty() || hs.getIncarnation().isEmpty()) {
      throw reject(Status.FAILED_PRECONDITION, "node " + Long.toUnsignedString(input.nodeId()) + " at " + addr
          + " did not report its raft address and incarnation; is it a joinflow node?");
    }
    if (!hs.getEmpty() && hs.getClusterId() == 0) {
      // Divisions left behind by an earlier join that was compensated; hosting ours again is safe.
      LOG.info("node {}: holds no cluster id but still hosts groups {}", input.nodeId(), hs.getHostedGroupsList());
    }
    LOG.info("node {}: peer at {} (raft {}, incarnation {}, {})", input.nodeId(), addr, hs.getRaftAddr(),
        hs.getIncarnation(), hs.getClusterId() == 0 ? "no cluster yet" : "already of this cluster");
    return new PeerInfo(hs.getRaftAddr(), hs.getIncarnation());
  }

  /**
   * True when {@code unreachable} (a failed handshake) is transient and the node is JOINING at
   * this address: a join admitted it and did not finish, typically because its workflow was
   * lost and a gateway started it again. Failing the first steps for good would then leave the
   * node JOINING and a learner of whatever groups it reached, because the join registers its
   * compensations in those steps; going on, the later steps either reach the node and finish the
   * join, or fail and undo it.
   */
  static boolean unfinishedJoinOf(NodeRecord existing, String addr, ApplicationFailure unreachable) {
    return JoinFailures.UNAVAILABLE.equals(unreachable.getType()) && existing != null
        && existing.getAddr().equals(addr) && existing.getState() == NodeState.JOINING;
  }

  /**
   * Asks the joining node who it is. It must be the expected node and belong to no cluster or
   * to this one (W11: cluster ids are compared between peers).
   */
  HandshakeResponse handshake(long nodeId, String addr, long clusterId) {
    HandshakeRequest request = HandshakeRequest.newBuilder().setExpectedNodeId(nodeId).setClusterId(clusterId).build();
    HandshakeResponse hs;
    try {
      hs = pool.callAt(addr, "handshake with node " + nodeId, stub -> stub.handshake(request));
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
        throw NodeAdminFailures.of(Status.UNAVAILABLE.withDescription("node " + Long.toUnsignedString(nodeId) + " is not reachable at "
            + addr + ": " + e.getStatus().getDescription() + "; is it running with --listen " + addr + "?").withCause(e));
      }
      throw NodeAdminFailures.of(e);
    }
    if (hs.getNodeId() != nodeId) {
      throw reject(Status.FAILED_PRECONDITION, "the node at " + addr + " is node " + Long.toUnsignedString(hs.getNodeId())
          + ", not " + Long.toUnsignedString(nodeId) + "; check the address");
    }
    if (hs.getClusterId() != 0 && hs.getClusterId() != clusterId) {
      throw reject(Status.FAILED_PRECONDITION, "node " + Long.toUnsignedString(nodeId) + " at " + addr + " belongs to cluster "
          + Long.toUnsignedString(hs.getClusterId()) + ", not " + Long.toUnsignedString(clusterId)
          + "; wipe its data dir to move it");
    }
    return hs;
  }
}
