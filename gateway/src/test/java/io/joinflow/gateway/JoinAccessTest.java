package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.Authorization;
import io.joinflow.security.Role;
import org.junit.jupiter.api.Test;

/** Every JoinService method has a rule (the rules refuse to build otherwise), and they say what docs/security.md says. */
class JoinAccessTest {
  private final Authorization rules = JoinAccess.rules("c1");

  @Test
  void nodesJoinAndOperatorsOperate() {
    assertThat(rules.allowed(JoinServiceGrpc.getJoinMethod().getFullMethodName())).containsExactly(Role.NODE);
    assertThat(rules.allowed(JoinServiceGrpc.getGetJoinMethod().getFullMethodName()))
        .containsExactlyInAnyOrder(Role.NODE, Role.OPERATOR);
    for (var m : new io.grpc.MethodDescriptor<?, ?>[] {JoinServiceGrpc.getLeaveMethod(),
        JoinServiceGrpc.getControlPromotionMethod(), JoinServiceGrpc.getListJoinsMethod(),
        JoinServiceGrpc.getCreateTokenMethod(), JoinServiceGrpc.getListTokensMethod(),
        JoinServiceGrpc.getRevokeTokenMethod()}) {
      assertThat(rules.allowed(m.getFullMethodName())).as(m.getFullMethodName()).containsExactly(Role.OPERATOR);
    }
  }

  @Test
  void onlyBootstrapIsOpenToCallersWithoutACertificate() {
    for (var m : JoinServiceGrpc.getServiceDescriptor().getMethods()) {
      assertThat(rules.allowedWithoutCertificate(m.getFullMethodName())).as(m.getFullMethodName())
          .isEqualTo(m.equals(JoinServiceGrpc.getBootstrapMethod()));
    }
  }
}
