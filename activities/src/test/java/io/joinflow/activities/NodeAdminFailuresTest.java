package io.joinflow.activities;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.joinflow.workflows.JoinFailures;
import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class NodeAdminFailuresTest {

  @ParameterizedTest(name = "{0} -> {1}, non-retryable={2}")
  @CsvSource({
      "INVALID_ARGUMENT, InvalidArgument, true",
      "ALREADY_EXISTS, AlreadyExists, true",
      "FAILED_PRECONDITION, FailedPrecondition, true",
      "NOT_FOUND, NotFound, true",
      "UNAVAILABLE, Unavailable, false",
      "DEADLINE_EXCEEDED, Unavailable, false",
      "ABORTED, Unavailable, false",
      "RESOURCE_EXHAUSTED, Unavailable, false",
      "INTERNAL, Unavailable, false",
      "UNKNOWN, Unavailable, false",
      "CANCELLED, Unavailable, false",
      "UNIMPLEMENTED, FailedPrecondition, true",
  })
  void shouldMapEveryStatusToOneFailureType(Status.Code code, String type, boolean nonRetryable) {
    ApplicationFailure f = NodeAdminFailures.of(code.toStatus().withDescription("why it failed").asRuntimeException());

    assertThat(f.getType()).isEqualTo(type);
    assertThat(f.isNonRetryable()).isEqualTo(nonRetryable);
    assertThat(f.getOriginalMessage()).isEqualTo("why it failed");
    assertThat(NodeAdminFailures.retryable(code)).isEqualTo(!nonRetryable);
  }

  @Test
  void shouldKeepTheNodesSentenceAsTheMessage() {
    String nodeDb = "node_id 4 already registered with different address 10.0.0.4:7100 (request: 10.0.0.5:7100)";

    ApplicationFailure f = NodeAdminFailures.of(Status.ALREADY_EXISTS.withDescription(nodeDb).asRuntimeException());

    assertThat(f.getOriginalMessage()).isEqualTo(nodeDb);
    assertThat(f.getType()).isEqualTo(JoinFailures.ALREADY_EXISTS);
    assertThat(f.getCause()).isNotNull();
  }

  @Test
  void shouldNameTheCodeWhenAStatusHasNoDescription() {
    ApplicationFailure f = NodeAdminFailures.of(Status.UNAVAILABLE);

    assertThat(f.getOriginalMessage()).isEqualTo("UNAVAILABLE");
    assertThat(f.isNonRetryable()).isFalse();
  }

  @Test
  void shouldTreatEveryNonRetryableTypeOfTheWorkflowAsNonRetryable() {
    for (Status.Code code : Status.Code.values()) {
      if (code == Status.Code.OK) {
        continue;
      }
      boolean listed = java.util.Arrays.asList(JoinFailures.NON_RETRYABLE).contains(NodeAdminFailures.typeOf(code));
      assertThat(listed).as("%s", code).isEqualTo(!NodeAdminFailures.retryable(code));
    }
  }
}
