package io.joinflow.cli;

import io.grpc.ManagedChannel;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A dev cluster's gateway as its callers reach it: node N with node N's certificate (a node may
 * join, and ask about, only itself), the operator with the operator's, each on a channel of its
 * own. On a plaintext cluster every caller is plaintext. Closing shuts every channel down.
 */
final class GatewayCallers implements AutoCloseable {
  private final DevCluster cluster;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  GatewayCallers(DevCluster cluster) {
    this.cluster = cluster;
  }

  /** The gateway as node {@code id} (its certificate is issued if it has none yet). */
  JoinServiceGrpc.JoinServiceBlockingStub asNode(long id) {
    return JoinServiceGrpc.newBlockingStub(channels.computeIfAbsent("node " + Long.toUnsignedString(id), k -> {
      try {
        return cluster.nodeChannels(id).channel(cluster.gatewayAddress().toString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    })).withDeadlineAfter(2, TimeUnit.MINUTES);
  }

  /** The gateway as the operator: lists, leaves, promotions, any node's progress. */
  JoinServiceGrpc.JoinServiceBlockingStub asOperator() {
    return JoinServiceGrpc.newBlockingStub(channels.computeIfAbsent("operator",
        k -> cluster.channels(Role.OPERATOR).channel(cluster.gatewayAddress().toString())))
        .withDeadlineAfter(2, TimeUnit.MINUTES);
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
