package io.joinflow.workflows;

import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.ActivityTaskScheduledEventAttributes;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/** The activity events of a join's history, decoded: which step, which group, in what order. */
final class JoinHistory {
  private static final DataConverter CONVERTER = DefaultDataConverter.STANDARD_INSTANCE;
  private static final Set<String> GROUP_STEPS = Set.of("addLearner", "awaitLearner", "removeLearner", "promoteVoter", "catchUpAndPromote", "moveLeadership",
      "removeMember");

  /** An activity as scheduled; {@code group} is -1 for steps that have none. */
  record Activity(long scheduledEventId, String type, int group, String summary) {}

  /** A terminal event of an activity (completed, failed, timed out or cancelled). */
  record Closed(long eventId, Activity activity, EventType eventType) {}

  private final List<Activity> scheduled = new ArrayList<>();
  private final List<Closed> closed = new ArrayList<>();
  private final List<HistoryEvent> events;

  JoinHistory(WorkflowExecutionHistory history) {
    events = history.getEvents();
    Map<Long, Activity> byId = new HashMap<>();
    for (HistoryEvent e : events) {
      if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        ActivityTaskScheduledEventAttributes a = e.getActivityTaskScheduledEventAttributes();
        Activity activity = new Activity(e.getEventId(), a.getActivityType().getName(),
            group(a.getActivityType().getName(), a.getInput()),
            e.getUserMetadata().hasSummary()
                ? CONVERTER.fromPayload(e.getUserMetadata().getSummary(), String.class, String.class)
                : "");
        byId.put(e.getEventId(), activity);
        scheduled.add(activity);
      } else {
        long scheduledId = scheduledEventId(e);
        if (scheduledId > 0) {
          closed.add(new Closed(e.getEventId(), byId.get(scheduledId), e.getEventType()));
        }
      }
    }
  }

  /** The activity scheduled by event {@code scheduledEventId}. */
  Activity activity(long scheduledEventId) {
    return scheduled.stream().filter(a -> a.scheduledEventId() == scheduledEventId).findFirst().orElseThrow();
  }

  List<Activity> scheduled() {
    return scheduled;
  }

  List<Activity> scheduled(String type) {
    return scheduled.stream().filter(a -> a.type().equals(type)).toList();
  }

  List<HistoryEvent> events() {
    return events;
  }

  /**
   * The largest number of per-group chains (addLearner scheduled .. awaitLearner closed, or
   * addLearner closed unsuccessfully) outstanding at one point of the history.
   */
  int maxGroupChainsInFlight() {
    return maxOutstanding(a -> a.type().equals("addLearner"), c -> c.activity().type().equals("awaitLearner")
        || (c.activity().type().equals("addLearner") && c.eventType() != EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED));
  }

  /** The largest number of activities of {@code type} scheduled and not yet closed at one point. */
  int maxInFlight(String type) {
    return maxOutstanding(a -> a.type().equals(type), c -> c.activity().type().equals(type));
  }

  private int maxOutstanding(Predicate<Activity> opens, Predicate<Closed> closes) {
    Map<Long, Activity> byId = new HashMap<>();
    scheduled.forEach(a -> byId.put(a.scheduledEventId(), a));
    Map<Long, Closed> closedByEvent = new HashMap<>();
    closed.forEach(c -> closedByEvent.put(c.eventId(), c));
    int inFlight = 0;
    int max = 0;
    for (HistoryEvent e : events) {
      Activity started = byId.get(e.getEventId());
      if (started != null && opens.test(started)) {
        max = Math.max(max, ++inFlight);
      }
      Closed c = closedByEvent.get(e.getEventId());
      if (c != null && closes.test(c)) {
        inFlight--;
      }
    }
    return max;
  }

  private static int group(String type, Payloads input) {
    if (!GROUP_STEPS.contains(type)) {
      return -1;
    }
    try {
      if (type.equals("promoteVoter") || type.equals("catchUpAndPromote")) {
        MembershipActivities.PromoteVoterInput in = CONVERTER.fromPayloads(0, Optional.of(input),
            MembershipActivities.PromoteVoterInput.class, MembershipActivities.PromoteVoterInput.class);
        return in == null ? -1 : in.groupId();
      }
      JoinActivities.GroupInput in = CONVERTER.fromPayloads(0, Optional.of(input), JoinActivities.GroupInput.class,
          JoinActivities.GroupInput.class);
      return in == null ? -1 : in.groupId();
    } catch (RuntimeException notAGroupStep) {
      return -1;
    }
  }

  private static long scheduledEventId(HistoryEvent e) {
    return switch (e.getEventType()) {
      case EVENT_TYPE_ACTIVITY_TASK_COMPLETED -> e.getActivityTaskCompletedEventAttributes().getScheduledEventId();
      case EVENT_TYPE_ACTIVITY_TASK_FAILED -> e.getActivityTaskFailedEventAttributes().getScheduledEventId();
      case EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT -> e.getActivityTaskTimedOutEventAttributes().getScheduledEventId();
      case EVENT_TYPE_ACTIVITY_TASK_CANCELED -> e.getActivityTaskCanceledEventAttributes().getScheduledEventId();
      default -> 0;
    };
  }
}
