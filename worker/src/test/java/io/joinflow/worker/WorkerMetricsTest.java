package io.joinflow.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import com.uber.m3.tally.Scope;
import io.joinflow.metrics.JoinflowRegistry;
import io.joinflow.workflows.ClusterSnapshot;
import io.joinflow.workflows.JoinActivities;
import io.joinflow.workflows.JoinFailures;
import io.joinflow.workflows.JoinInput;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.JoinResult;
import io.joinflow.workflows.JoinWorkflow;
import io.joinflow.workflows.MembershipActivities;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Join runs and step attempts as a worker's metrics count them, on the embedded server. */
class WorkerMetricsTest {
  private final PrometheusMeterRegistry registry = JoinflowRegistry.create();
  private final JoinActivities activities = mock(JoinActivities.class, withSettings().withoutAnnotations());
  private Scope scope;
  private TemporalConnection temporal;
  private JoinWorker worker;

  @BeforeEach
  void start() throws Exception {
    scope = TemporalMetrics.scope(registry);
    temporal = TemporalConnection.embedded(0, scope);
    // Restartable: no sticky cache, so every workflow task replays the run from its start, and
    // a count that a replay repeated would show.
    worker = new JoinWorker(temporal.client(), activities,
        mock(MembershipActivities.class, withSettings().withoutAnnotations()), true,
        List.of(new WorkerMetrics(registry))).start();
  }

  @AfterEach
  void stop() {
    worker.close();
    temporal.close();
    TemporalMetrics.close(scope);
  }

  private JoinResult join(long nodeId) {
    return temporal.client().newWorkflowStub(JoinWorkflow.class, WorkflowOptions.newBuilder()
            .setTaskQueue(JoinWorkflow.TASK_QUEUE).setWorkflowId("join/1/" + nodeId).build())
        .join(new JoinInput(nodeId, "127.0.0.1:1", 1, 1, JoinOptions.defaults()));
  }

  @Test
  void shouldCountARejectedJoinOnceAndItsPrepareRetry() {
    when(activities.prepare(any()))
        .thenThrow(ApplicationFailure.newFailure("no leader yet", JoinFailures.UNAVAILABLE))
        .thenThrow(ApplicationFailure.newNonRetryableFailure("node_id 4 already registered", JoinFailures.ALREADY_EXISTS));

    JoinResult result = join(4);

    assertThat(result.success()).isFalse();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(registry.scrape())
        .contains("joinflow_joins_started_total{namespace=\"default\",task_queue=\"joinflow-join\","
            + "workflow_type=\"JoinWorkflow\"} 1.0")
        .contains("joinflow_joins_finished_total{namespace=\"default\",outcome=\"rejected\","
            + "task_queue=\"joinflow-join\",workflow_type=\"JoinWorkflow\"} 1.0")
        .containsPattern("joinflow_join_duration_seconds_count\\{[^}]*outcome=\"rejected\"[^}]*} 1")
        .containsPattern("joinflow_join_duration_seconds_bucket\\{[^}]*outcome=\"rejected\"[^}]*le=\"600.0\"} 1")
        .contains("joinflow_step_retries_total{step=\"prepare\",workflow=\"join\"} 1.0")
        .contains("joinflow_step_duration_seconds_count{outcome=\"failure\",step=\"prepare\",workflow=\"join\"} 2")
        .contains("joinflow_steps_in_flight{step=\"prepare\",workflow=\"join\"} 0.0"));
  }

  @Test
  void shouldCountAJoinOfAMemberAsSucceeded() {
    when(activities.prepare(any()))
        .thenReturn(new JoinActivities.PrepareResult(1, 1, true, ClusterSnapshot.empty(), null));

    assertThat(join(5).success()).isTrue();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(registry.scrape())
        .containsPattern("joinflow_joins_finished_total\\{[^}]*outcome=\"succeeded\"[^}]*} 1.0")
        .contains("joinflow_step_duration_seconds_count{outcome=\"success\",step=\"prepare\",workflow=\"join\"} 1"));
  }
}
