package io.joinflow.workflows;

import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory, time-skipping Temporal server with a worker running the promotion and leave
 * workflows against the given activities, with the join's search attributes registered.
 */
final class MembershipTestServer implements AutoCloseable {
  private final TestWorkflowEnvironment env;
  private final WorkflowClient client;

  MembershipTestServer(JoinActivities join, MembershipActivities membership) {
    // A fixed identity keeps the host name out of the committed history fixtures.
    env = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
        .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setIdentity(JoinTestServer.IDENTITY).build())
        .build());
    env.registerSearchAttribute(JoinSearchAttributes.NODE_ID.getName(), IndexedValueType.INDEXED_VALUE_TYPE_INT);
    env.registerSearchAttribute(JoinSearchAttributes.PHASE.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    Worker worker = env.newWorker(JoinWorkflow.TASK_QUEUE, WorkerOptions.newBuilder()
        .setDefaultDeadlockDetectionTimeout(JoinTestServer.DEADLOCK_DETECTION_MILLIS)
        .build());
    worker.registerWorkflowImplementationTypes(PromoteWorkflowImpl.class, LeaveWorkflowImpl.class);
    worker.registerActivitiesImplementations(join, membership);
    env.start();
    client = env.getWorkflowClient();
  }

  static String promoteId() {
    return PromoteWorkflow.workflowId(ScriptedJoinActivities.CLUSTER_ID, ScriptedJoinActivities.NODE);
  }

  static String leaveId() {
    return LeaveWorkflow.workflowId(ScriptedJoinActivities.CLUSTER_ID, ScriptedJoinActivities.NODE);
  }

  PromoteWorkflow newPromote() {
    return client.newWorkflowStub(PromoteWorkflow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(JoinWorkflow.TASK_QUEUE).setWorkflowId(promoteId()).build());
  }

  LeaveWorkflow newLeave() {
    return client.newWorkflowStub(LeaveWorkflow.class, WorkflowOptions.newBuilder()
        .setTaskQueue(JoinWorkflow.TASK_QUEUE).setWorkflowId(leaveId()).build());
  }

  static PromoteInput promoteInput(PromoteOptions options) {
    return new PromoteInput(ScriptedJoinActivities.NODE, ScriptedJoinActivities.CLUSTER_ID, options);
  }

  /**
   * A promotion handed the membership its join ended with: node 4 LEARNER in every group 0..G,
   * beside the seed (what {@link ScriptedMembershipActivities#joined} describes).
   */
  static PromoteInput promoteInputAfterJoin(PromoteOptions options, int dataGroups) {
    List<ClusterSnapshot.GroupInfo> groups = new ArrayList<>();
    for (int g = 0; g <= dataGroups; g++) {
      groups.add(new ClusterSnapshot.GroupInfo(g, ScriptedJoinActivities.SEED, List.of(ScriptedJoinActivities.SEED),
          List.of(ScriptedJoinActivities.NODE)));
    }
    List<Integer> all = groups.stream().map(ClusterSnapshot.GroupInfo::groupId).toList();
    ClusterSnapshot joined = new ClusterSnapshot(ScriptedJoinActivities.CLUSTER_ID, 7, dataGroups, List.of(
        new ClusterSnapshot.NodeInfo(ScriptedJoinActivities.SEED, "127.0.0.1:7510", "ACTIVE", all, 1),
        new ClusterSnapshot.NodeInfo(ScriptedJoinActivities.NODE, ScriptedJoinActivities.NODE_ADDR, "LEARNER", all, 1)),
        groups);
    return new PromoteInput(ScriptedJoinActivities.NODE, ScriptedJoinActivities.CLUSTER_ID, options,
        PromoteInput.membershipOf(joined, ScriptedJoinActivities.NODE));
  }

  static LeaveInput leaveInput() {
    return new LeaveInput(ScriptedJoinActivities.NODE, ScriptedJoinActivities.CLUSTER_ID, 4);
  }

  WorkflowExecutionHistory history(String workflowId) {
    return client.fetchHistory(workflowId);
  }

  TestWorkflowEnvironment env() {
    return env;
  }

  @Override
  public void close() {
    env.close();
  }
}
