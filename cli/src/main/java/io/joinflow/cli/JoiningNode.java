package io.joinflow.cli;

import io.grpc.StatusException;
import io.joinflow.gateway.JoinClient;
import io.joinflow.node.Node;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.TopologyUpdate;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The joining side: an empty node asks the gateways to join it and, on success, writes the
 * cluster id and topology to its catalog in one batch (W6). A node that already belongs to a
 * cluster does not join again.
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
    if (node.identity().clusterId() != 0 && !removed(node)) {
      log.accept("node " + Long.toUnsignedString(node.nodeId()) + " already belongs to cluster "
          + Long.toUnsignedString(node.identity().clusterId()) + "; not joining again");
      return null;
    }
    JoinRequest request = JoinRequest.newBuilder().setNodeId(node.nodeId())
        .setListenAddr(node.config().listen().toString()).setWireVersion(Node.WIRE_VERSION).build();
    JoinResponse response;
    try (JoinClient client = new JoinClient(gateways)) {
      response = client.join(request, callTimeout, RETRY_FOR, log);
    }
    if (response.getSuccess()) {
      record(node, response);
    }
    return response;
  }

  /**
   * True when the topology this node was told of does not describe this node's data dir: it
   * lists no node with this id (a join that was compensated pushed it the topology without it)
   * or one of another incarnation (the node this one replaces after a lost disk, removed with
   * leave and pushed the result at the shared address). Such a node hosts no group and may
   * join. A node that left keeps its incarnation and stays out.
   */
  static boolean removed(Node node) {
    if (!node.hostedGroups().isEmpty()) {
      return false;
    }
    String incarnation = node.identity().incarnation();
    return node.localMetadata().getNodesList().stream().filter(n -> n.getNodeId() == node.nodeId())
        .noneMatch(n -> n.getIncarnation().equals(incarnation));
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
}
