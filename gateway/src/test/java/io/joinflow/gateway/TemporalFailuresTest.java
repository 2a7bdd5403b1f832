package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusException;
import io.temporal.client.WorkflowServiceException;
import io.temporal.api.common.v1.WorkflowExecution;
import org.junit.jupiter.api.Test;

class TemporalFailuresTest {
  private static WorkflowServiceException wrapped(Status status) {
    // What WorkflowClient.start throws: the server's status is the cause.
    return new WorkflowServiceException(WorkflowExecution.newBuilder().setWorkflowId("join/1/4").build(),
        "JoinWorkflow", status.asRuntimeException());
  }

  @Test
  void shouldAnswerFailedPreconditionWhenTemporalRefusesTheRequest() {
    StatusException e = TemporalFailures.toStatus(wrapped(Status.INVALID_ARGUMENT.withDescription(
        "Namespace joinflow has no mapping defined for search attribute JoinPhase")), "start the join workflow join/1/4");
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(e.getStatus().getDescription()).contains("Temporal refused to start the join workflow join/1/4")
        .contains("no mapping defined for search attribute JoinPhase")
        .contains("temporal operator search-attribute create --name JoinNodeId --type Int");
    assertThat(TemporalFailures.isRefusal(e)).isTrue();

    StatusException denied = TemporalFailures.toStatus(wrapped(Status.PERMISSION_DENIED.withDescription(
        "Request unauthorized.")), "start the leave workflow leave/1/4");
    assertThat(denied.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(denied.getStatus().getDescription()).contains("PERMISSION_DENIED").contains("TEMPORAL_API_KEY");
  }

  @Test
  void shouldAnswerUnavailableWhenTemporalIsDownOrSlow() {
    for (Status s : new Status[] {Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.RESOURCE_EXHAUSTED}) {
      StatusException e = TemporalFailures.toStatus(wrapped(s.withDescription("x")), "start it");
      assertThat(e.getStatus().getCode()).as(s.getCode().name()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(TemporalFailures.isRefusal(e)).isFalse();
    }
    assertThat(TemporalFailures.toStatus(new IllegalStateException("no status here"), "start it").getStatus()
        .getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }
}
