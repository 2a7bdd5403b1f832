package io.joinflow.gateway;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GetPromotionRequest;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.Authorization;
import io.joinflow.security.PeerIdentity;
import io.joinflow.security.Role;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Who may call what on a gateway (docs/security.md): a node joins, and asks about, only itself;
 * operators list joins, decommission nodes, steer promotions and manage join tokens; a caller
 * without a certificate may only Bootstrap (with a join token); every role may check health.
 */
public final class JoinAccess {
  private JoinAccess() {
  }

  /** The interceptors a secure gateway needs, in the order {@code ServerBuilder.intercept} takes them. */
  public static List<ServerInterceptor> interceptors(String cluster) {
    // intercept() runs the last added first: the role check, then the node's self check.
    return List.of(new NodeAsksAboutItself(), rules(cluster));
  }

  static Authorization rules(String cluster) {
    return Authorization.forServices(cluster, JoinServiceGrpc.getServiceDescriptor(),
            HealthGrpc.getServiceDescriptor(), ServerReflectionGrpc.getServiceDescriptor())
        .allow(Set.of(Role.NODE), JoinServiceGrpc.getJoinMethod())
        .allow(Set.of(Role.NODE, Role.OPERATOR), JoinServiceGrpc.getGetJoinMethod(),
            JoinServiceGrpc.getGetPromotionMethod())
        .allow(Set.of(Role.OPERATOR), JoinServiceGrpc.getListJoinsMethod(), JoinServiceGrpc.getLeaveMethod(),
            JoinServiceGrpc.getControlPromotionMethod(), JoinServiceGrpc.getCreateTokenMethod(),
            JoinServiceGrpc.getListTokensMethod(), JoinServiceGrpc.getRevokeTokenMethod())
        // An empty node has no certificate yet: its join token is its proof (checked by the handler).
        .allow(EnumSet.allOf(Role.class), JoinServiceGrpc.getBootstrapMethod())
        .allowWithoutCertificate(JoinServiceGrpc.getBootstrapMethod())
        .allowService(EnumSet.allOf(Role.class), HealthGrpc.getServiceDescriptor())
        .allowService(Set.of(Role.OPERATOR), ServerReflectionGrpc.getServiceDescriptor())
        .build();
  }

  /**
   * A node's certificate names its node id: its {@code Join}, {@code GetJoin} and
   * {@code GetPromotion} must be about that id, so a node can neither join as another node nor
   * read another node's join. The workflow then trusts the id the TLS handshake proved, not what
   * the request says.
   */
  static final class NodeAsksAboutItself implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                        ServerCallHandler<Q, R> next) {
      PeerIdentity caller = Authorization.CALLER.get();
      if (caller == null || caller.role() != Role.NODE) {
        return next.startCall(call, headers);
      }
      ServerCall.Listener<Q> delegate = next.startCall(call, headers);
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          long asked = message instanceof JoinRequest j ? j.getNodeId()
              : message instanceof GetJoinRequest g ? g.getNodeId()
              : message instanceof GetPromotionRequest p ? p.getNodeId() : caller.nodeId();
          if (asked != caller.nodeId()) {
            refused = true;
            call.close(Status.PERMISSION_DENIED.withDescription("the caller is " + caller + " and may ask only about"
                + " node " + Long.toUnsignedString(caller.nodeId()) + ", not node " + Long.toUnsignedString(asked)
                + "; a node joins with its own certificate"), new Metadata());
            return;
          }
          super.onMessage(message);
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }
      };
    }
  }
}
