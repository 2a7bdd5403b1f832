package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusException;
import org.junit.jupiter.api.Test;

class JoinRequestsTest {

  @Test
  void shouldCanonicalizeTheListenAddressLikeTheActivities() throws Exception {
    assertThat(JoinRequests.listenAddr(" 127.0.0.1:7100 ")).isEqualTo("127.0.0.1:7100");
    assertThat(JoinRequests.listenAddr("[::1]:7100")).isEqualTo("[::1]:7100");
  }

  @Test
  void shouldRefuseWildcardAndMalformedAddressesInNodeDbsWords() {
    StatusException wildcard = catchThrowableOfType(StatusException.class, () -> JoinRequests.listenAddr("[::]:7100"));
    assertThat(wildcard.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(wildcard.getStatus().getDescription()).isEqualTo("invalid listen_addr '[::]:7100': :: means every"
        + " interface, which other nodes cannot dial; give an address they can reach");

    StatusException malformed = catchThrowableOfType(StatusException.class, () -> JoinRequests.listenAddr("h"));
    assertThat(malformed.getStatus().getDescription()).isEqualTo("invalid listen_addr 'h': 'h' is not host:port");
  }

  @Test
  void shouldRefuseNodeIdZero() {
    StatusException e = catchThrowableOfType(StatusException.class, () -> JoinRequests.requireNodeId(0));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription()).isEqualTo("node_id must be non-zero");
  }
}
