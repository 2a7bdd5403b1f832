package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.temporal.api.common.v1.ActivityType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.ActivityTaskCompletedEventAttributes;
import io.temporal.api.history.v1.ActivityTaskScheduledEventAttributes;
import io.temporal.api.history.v1.ActivityTaskStartedEventAttributes;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.sdk.v1.UserMetadata;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JoinTimelineTest {
  private final List<HistoryEvent> events = new ArrayList<>();
  private long nextId = 1;

  private static Timestamp at(long ms) {
    return Timestamp.newBuilder().setSeconds(1000 + ms / 1000).setNanos((int) (ms % 1000) * 1_000_000).build();
  }

  private long schedule(long ms, String type, String summary) {
    long id = nextId++;
    events.add(HistoryEvent.newBuilder().setEventId(id).setEventTime(at(ms))
        .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .setUserMetadata(UserMetadata.newBuilder().setSummary(DefaultDataConverter.STANDARD_INSTANCE.toPayload(summary).orElseThrow()))
        .setActivityTaskScheduledEventAttributes(ActivityTaskScheduledEventAttributes.newBuilder()
            .setActivityType(ActivityType.newBuilder().setName(type))).build());
    return id;
  }

  private void complete(long scheduledId, long startMs, long endMs, int attempt) {
    events.add(HistoryEvent.newBuilder().setEventId(nextId++).setEventTime(at(startMs))
        .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
        .setActivityTaskStartedEventAttributes(ActivityTaskStartedEventAttributes.newBuilder()
            .setScheduledEventId(scheduledId).setAttempt(attempt)).build());
    events.add(HistoryEvent.newBuilder().setEventId(nextId++).setEventTime(at(endMs))
        .setEventType(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
        .setActivityTaskCompletedEventAttributes(ActivityTaskCompletedEventAttributes.newBuilder()
            .setScheduledEventId(scheduledId)).build());
  }

  @Test
  void shouldMeasureStepsAndFindTheDominantOne() {
    events.add(HistoryEvent.newBuilder().setEventId(nextId++).setEventTime(at(0))
        .setEventType(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED).build());
    long v = schedule(10, "validate", "validate node 4");
    complete(v, 11, 30, 1);
    long a1 = schedule(40, "addLearner", "add learner node 4 to group 1");
    long a2 = schedule(41, "addLearner", "add learner node 4 to group 2");
    complete(a1, 42, 140, 1);
    complete(a2, 42, 200, 2);

    JoinTimeline t = JoinTimeline.of(events);

    assertThat(t.steps()).hasSize(3);
    assertThat(t.steps().get(0)).isEqualTo(new JoinTimeline.Step("validate", "validate node 4", 10, 20, 1, "completed"));
    assertThat(t.steps().get(2).attempts()).isEqualTo(2);
    assertThat(t.spans()).containsExactly(new JoinTimeline.Span("validate", 20, 1), new JoinTimeline.Span("addLearner", 160, 2));
    assertThat(t.dominant().activity()).isEqualTo("addLearner");
    assertThat(t.totalMs()).isEqualTo(200);
    assertThat(t.render()).contains("add learner node 4 to group 2").contains("dominant step: addLearner (160 of 200 ms)");
  }
}
