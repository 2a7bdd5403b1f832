package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.v1.MetadataState;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ClusterIdTest {
  private final AtomicInteger reads = new AtomicInteger();
  private final AtomicLong id = new AtomicLong();
  private final ClusterId clusterId = new ClusterId(() -> {
    reads.incrementAndGet();
    return MetadataState.newBuilder().setClusterId(id.get()).build();
  });

  @Test
  void shouldReadTheClusterIdOnceItIsSet() throws Exception {
    id.set(42);

    assertThat(clusterId.require()).isEqualTo(42);
    assertThat(clusterId.require()).isEqualTo(42);
    assertThat(reads).hasValue(1);
  }

  @Test
  void shouldAskAgainWhileTheClusterIsNotBootstrapped() throws Exception {
    StatusException e = catchThrowableOfType(StatusException.class, clusterId::require);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription()).isEqualTo("the cluster is not bootstrapped yet");

    id.set(7);
    assertThat(clusterId.require()).isEqualTo(7);
    assertThat(reads).hasValue(2);
  }

  @Test
  void shouldRememberTheIdOfStateReadForAnotherReason() throws Exception {
    assertThat(clusterId.of(MetadataState.newBuilder().setClusterId(9).build())).isEqualTo(9);
    assertThat(clusterId.of(MetadataState.getDefaultInstance())).isEqualTo(9);

    assertThat(clusterId.require()).isEqualTo(9);
    assertThat(reads).hasValue(0);
  }
}
