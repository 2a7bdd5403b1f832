package io.joinflow.node.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.proto.v1.DataGrpc;
import io.joinflow.proto.v1.NodeAdminGrpc;
import io.joinflow.security.Authorization;
import io.joinflow.security.Role;
import org.junit.jupiter.api.Test;

/** Every NodeAdmin and Data method has a rule (the rules refuse to build otherwise), and the rules say what docs/security.md says. */
class NodeAccessTest {
  private final Authorization rules = NodeAccess.rules("c1");

  @Test
  void onlyTheWorkerChangesANode() {
    for (var m : new io.grpc.MethodDescriptor<?, ?>[] {NodeAdminGrpc.getChangeMembershipMethod(),
        NodeAdminGrpc.getChangeTopologyMethod(), NodeAdminGrpc.getHostGroupMethod(), NodeAdminGrpc.getDropGroupMethod(),
        NodeAdminGrpc.getTransferLeadershipMethod(), NodeAdminGrpc.getLearnerProgressMethod()}) {
      assertThat(rules.allowed(m.getFullMethodName())).as(m.getFullMethodName()).containsExactly(Role.WORKER);
    }
    assertThat(rules.allowed(NodeAdminGrpc.getApplyTopologyUpdateMethod().getFullMethodName()))
        .containsExactlyInAnyOrder(Role.NODE, Role.WORKER);
  }

  @Test
  void readsAreForEveryRoleAndDataForClients() {
    assertThat(rules.allowed(NodeAdminGrpc.getGetClusterViewMethod().getFullMethodName())).hasSize(Role.values().length);
    assertThat(rules.allowed(NodeAdminGrpc.getGetMetadataMethod().getFullMethodName())).hasSize(Role.values().length);
    assertThat(rules.allowed(DataGrpc.getPutMethod().getFullMethodName())).containsExactly(Role.CLIENT);
    assertThat(rules.allowed("joinflow.v1.NodeAdmin/NoSuchMethod")).isEmpty();
  }
}
