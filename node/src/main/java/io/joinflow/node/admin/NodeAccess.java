package io.joinflow.node.admin;

import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.joinflow.proto.v1.DataGrpc;
import io.joinflow.proto.v1.NodeAdminGrpc;
import io.joinflow.security.Authorization;
import io.joinflow.security.Role;
import java.util.EnumSet;
import java.util.Set;

/**
 * Who may call what on a node's port (docs/security.md): the worker is the only caller that
 * changes a node; nodes and workers deliver topology; every role of the cluster may read the
 * cluster view and the health; applications ({@code client}) read and write data; operators
 * may browse the API by reflection.
 */
public final class NodeAccess {
  private NodeAccess() {
  }

  public static Authorization rules(String cluster) {
    Set<Role> anyRole = EnumSet.allOf(Role.class);
    return Authorization.forServices(cluster, NodeAdminGrpc.getServiceDescriptor(), DataGrpc.getServiceDescriptor(),
            HealthGrpc.getServiceDescriptor(), ServerReflectionGrpc.getServiceDescriptor())
        .allow(Set.of(Role.WORKER),
            NodeAdminGrpc.getHostGroupMethod(), NodeAdminGrpc.getDropGroupMethod(),
            NodeAdminGrpc.getChangeMembershipMethod(), NodeAdminGrpc.getLearnerProgressMethod(),
            NodeAdminGrpc.getTransferLeadershipMethod(), NodeAdminGrpc.getChangeTopologyMethod())
        .allow(Set.of(Role.NODE, Role.WORKER), NodeAdminGrpc.getApplyTopologyUpdateMethod())
        // The gateway checks and moves join tokens; persist and evict (the worker) finish them.
        .allow(Set.of(Role.GATEWAY, Role.WORKER), NodeAdminGrpc.getGetTokensMethod(),
            NodeAdminGrpc.getChangeTokenMethod())
        .allow(anyRole, NodeAdminGrpc.getGetClusterViewMethod(), NodeAdminGrpc.getHandshakeMethod(),
            NodeAdminGrpc.getGetMetadataMethod(), NodeAdminGrpc.getGetGroupMethod())
        .allowService(Set.of(Role.CLIENT), DataGrpc.getServiceDescriptor())
        .allowService(anyRole, HealthGrpc.getServiceDescriptor())
        .allowService(Set.of(Role.OPERATOR), ServerReflectionGrpc.getServiceDescriptor())
        .build();
  }
}
