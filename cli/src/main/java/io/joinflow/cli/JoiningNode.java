package io.joinflow.cli;

import io.grpc.StatusException;
import io.joinflow.gateway.JoinClient;
import io.joinflow.security.Channels;
import io.joinflow.node.Node;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.TopologyUpdate;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The joining side: an empty node asks the gateways to join it and, on success, writes the
 * cluster id and topology to its catalog in one batch (W6). A node that already belongs to a
 * cluster does not join again, unless it knows its join did not finish.
 */
final class JoiningNode {
  /** How long a node keeps retrying unreachable gateways. */
  static final Duration RETRY_FOR = Duration.ofMinutes(5);

  private JoiningNode() {}

  /**
   * @return the gateway's answer, or null when the node already belonged to a cluster
   */
  static JoinResponse join(Node node, List<String> gateways, Duration callTimeout, Consumer<String> log)
      throws InterruptedException, StatusException {
    return join(node, gateways, callTimeout, log, null);
  }

  /**
   * {@link #join(Node, List, Duration, Consumer)} with a join token ({@code <id>.<secret>}, or
   * null): sent in the request only, never logged.
   */
  static JoinResponse join(Node node, List<String> gateways, Duration callTimeout, Consumer<String> log, String token)
      throws InterruptedException, StatusException {
    if (node.identity().clusterId() != 0 && !joinUnfinished(node)) {
      log.accept("node " + Long.toUnsignedString(node.nodeId()) + " already belongs to cluster "
          + Long.toUnsignedString(node.identity().clusterId()) + "; not joining again");
      return null;
    }
    JoinRequest request = JoinRequest.newBuilder().setNodeId(node.nodeId())
        .setListenAddr(node.config().listen().toString()).setWireVersion(Node.WIRE_VERSION)
        .setIncarnation(node.identity().incarnation()).setToken(token == null ? "" : token).build();
    JoinResponse response;
    try (JoinClient client = new JoinClient(gateways, transport(node))) {
      response = client.join(request, callTimeout, RETRY_FOR, log);
    }
    if (response.getSuccess()) {
      record(node, response);
    }
    return response;
  }

  /**
   * True when this node, although it holds a cluster id, is not a finished member as far as it
   * knows, so asking to join is right (Join is idempotent: a running join is attached to, a
   * finished one changes nothing):
   * <ul>
   *   <li>the topology it knows lists no node with this id (a join that was compensated pushed
   *       it the topology without it), or one of another incarnation (the node this one
   *       replaces after a lost disk, removed with leave, pushed the result to the shared
   *       address);
   *   <li>it lists this node as JOINING: the process died mid-join, after its group 0 replica
   *       or its catalog learned of it. The join resumes, or was undone and runs again.
   * </ul>
   * A node that left (DECOMMISSIONED, same incarnation) stays out, as does a LEARNER or ACTIVE one.
   */
  static boolean joinUnfinished(Node node) {
    String incarnation = node.identity().incarnation();
    NodeRecord self = node.localMetadata().getNodesList().stream().filter(n -> n.getNodeId() == node.nodeId())
        .filter(n -> n.getIncarnation().equals(incarnation)).findFirst().orElse(null);
    return self == null || self.getState() == NodeState.JOINING;
  }

  /**
   * The broadcast step normally delivered the topology already; this covers a broadcast that
   * did not reach the node, from the node's own group 0 replica.
   */
  private static void record(Node node, JoinResponse response) throws StatusException {
    if (node.identity().clusterId() == response.getClusterId()
        && node.catalog().topologyUpdate().isPresent()) {
      return;
    }
    MetadataState state = node.localMetadata();
    if (state.getClusterId() != response.getClusterId()) {
      return;
    }
    node.applyTopologyUpdate(TopologyUpdate.newBuilder().setClusterId(state.getClusterId())
        .setVersion(state.getTopologyVersion()).setState(state).build());
  }

  /** The joining node talks to gateways as itself: with its node certificate when it has one. */
  static Channels transport(Node node) {
    return node.config().tls() == null ? Channels.plaintext() : Channels.tls(node.config().tls());
  }
}
