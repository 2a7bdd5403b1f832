package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.v1.BootstrapRequest;
import java.time.Clock;
import org.junit.jupiter.api.Test;

class NodeCertificatesTest {
  @Test
  void aGatewayWithoutTheCaKeySaysWhereCertificatesComeFromAndAsksTheClusterNothing() {
    ClusterMetadataSource untouched = () -> {
      throw new AssertionError("a gateway that cannot sign has nothing to read");
    };
    NodeCertificates certificates = new NodeCertificates(null, new JoinTokens(untouched, Clock.systemUTC(), true),
        new ClusterId(untouched));
    StatusException e = catchThrowableOfType(StatusException.class, () -> certificates.bootstrap(
        BootstrapRequest.newBuilder().setNodeId(4).setToken("abc123.0123456789abcdef").build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(e.getStatus().getDescription()).contains("holds no CA key")
        .contains("joinflow cert create-node").doesNotContain("0123456789abcdef");
  }
}
