package io.joinflow.workflows;

import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributes;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;

/**
 * An in-memory, time-skipping Temporal server with a worker running {@link JoinWorkflowImpl}
 * and the given activities, and the join's search attributes registered (unregistered ones
 * would fail the workflow task).
 */
final class JoinTestServer implements AutoCloseable {
  /** Replays and busy 2-core machines can stall a workflow thread past the 1 s default. */
  static final long DEADLOCK_DETECTION_MILLIS = 5_000;
  static final String IDENTITY = "joinflow-test-worker";

  private final TestWorkflowEnvironment env;
  private final WorkflowClient client;

  JoinTestServer(JoinActivities activities) {
    // A fixed identity keeps the host name out of the committed history fixtures.
    env = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
        .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setIdentity(IDENTITY).build())
        .build());
    env.registerSearchAttribute(JoinSearchAttributes.NODE_ID.getName(), IndexedValueType.INDEXED_VALUE_TYPE_INT);
    env.registerSearchAttribute(JoinSearchAttributes.PHASE.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    Worker worker = env.newWorker(JoinWorkflow.TASK_QUEUE, WorkerOptions.newBuilder()
        .setDefaultDeadlockDetectionTimeout(DEADLOCK_DETECTION_MILLIS)
        .build());
    worker.registerWorkflowImplementationTypes(JoinWorkflowImpl.class);
    worker.registerActivitiesImplementations(activities);
    env.start();
    client = env.getWorkflowClient();
  }

  /** A stub for the join of {@link ScriptedJoinActivities#NODE}, started as the gateway starts it. */
  JoinWorkflow newJoin() {
    return client.newWorkflowStub(JoinWorkflow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(JoinWorkflow.TASK_QUEUE)
        .setWorkflowId(workflowId())
        .setTypedSearchAttributes(SearchAttributes.newBuilder()
            .set(JoinSearchAttributes.NODE_ID, ScriptedJoinActivities.NODE)
            .build())
        .build());
  }

  static String workflowId() {
    return JoinWorkflow.workflowId(ScriptedJoinActivities.CLUSTER_ID, ScriptedJoinActivities.NODE);
  }

  WorkflowExecutionHistory history() {
    return client.fetchHistory(workflowId());
  }

  WorkflowStub untyped(JoinWorkflow join) {
    return WorkflowStub.fromTyped(join);
  }

  @Override
  public void close() {
    env.close();
  }
}
