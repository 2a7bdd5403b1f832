package io.joinflow.gateway;

import io.grpc.StatusException;
import io.joinflow.proto.v1.JoinRun;
import io.joinflow.workflows.JoinSearchAttributes;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowExecutionMetadata;
import io.temporal.common.SearchAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every run of the join workflow, from Temporal's visibility: what an operator's
 * {@code WorkflowType='JoinWorkflow'} in the Web UI's search box lists, including failed,
 * compensated and terminated runs and runs whose node's record group 0 no longer holds.
 */
public final class JoinListing {
  /** The visibility query of every join run. */
  public static final String QUERY = "WorkflowType='JoinWorkflow'";
  /** At most this many runs are listed (newest first). */
  static final int MAX_RUNS = 1000;

  private JoinListing() {}

  static List<JoinRun> runs(WorkflowClient client, TemporalEndpoint temporal) throws StatusException {
    List<JoinRun> runs = new ArrayList<>();
    try (Stream<WorkflowExecutionMetadata> listed = client.listExecutions(QUERY)) {
      listed.limit(MAX_RUNS).forEach(m -> runs.add(toRun(m, temporal)));
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      throw TemporalFailures.toStatus(e, "list join workflows (" + QUERY + ")");
    }
    return runs;
  }

  private static JoinRun toRun(WorkflowExecutionMetadata m, TemporalEndpoint temporal) {
    SearchAttributes attributes = m.getTypedSearchAttributes();
    Long nodeId = attributes.get(JoinSearchAttributes.NODE_ID);
    String phase = attributes.get(JoinSearchAttributes.PHASE);
    JoinRun.Builder b = JoinRun.newBuilder()
        .setWorkflowId(m.getExecution().getWorkflowId())
        .setRunId(m.getExecution().getRunId())
        .setNodeId(nodeId == null ? 0 : nodeId)
        .setPhase(phase == null ? "" : phase)
        .setStatus(m.getStatus().name().replace("WORKFLOW_EXECUTION_STATUS_", ""))
        .setStartedAtMillis(millis(m.getStartTime()))
        .setClosedAtMillis(millis(m.getCloseTime()));
    temporal.workflowUrl(b.getWorkflowId(), b.getRunId()).ifPresent(b::setUiUrl);
    return b.build();
  }

  private static long millis(Instant t) {
    return t == null ? 0 : t.toEpochMilli();
  }
}
