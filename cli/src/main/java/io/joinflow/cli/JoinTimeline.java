package io.joinflow.cli;

import com.google.protobuf.Timestamp;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A join's timeline read from its workflow history: each activity with its start (relative to
 * the workflow's start), its duration, attempts and outcome, and the step that took the longest
 * wall time.
 */
record JoinTimeline(List<Step> steps, long totalMs) {

  /** One activity execution. */
  record Step(String activity, String summary, long startMs, long durationMs, int attempts, String outcome) {}

  /** Wall time a kind of activity spanned (first start to last end; parallel steps overlap). */
  record Span(String activity, long wallMs, int count) {}

  static JoinTimeline of(List<HistoryEvent> events) {
    long t0 = -1;
    long end = 0;
    Map<Long, Step> scheduled = new LinkedHashMap<>();
    Map<Long, Long> startedAt = new LinkedHashMap<>();
    Map<Long, Integer> attempts = new LinkedHashMap<>();
    for (HistoryEvent e : events) {
      long at = millis(e.getEventTime());
      if (t0 < 0) {
        t0 = at;
      }
      end = Math.max(end, at);
      switch (e.getEventType()) {
        case EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> {
          String summary = e.hasUserMetadata() && e.getUserMetadata().hasSummary()
              ? DefaultDataConverter.STANDARD_INSTANCE.fromPayload(e.getUserMetadata().getSummary(), String.class, String.class)
              : "";
          scheduled.put(e.getEventId(), new Step(e.getActivityTaskScheduledEventAttributes().getActivityType().getName(),
              summary, at - t0, 0, 0, "running"));
        }
        case EVENT_TYPE_ACTIVITY_TASK_STARTED -> {
          long id = e.getActivityTaskStartedEventAttributes().getScheduledEventId();
          startedAt.putIfAbsent(id, at);
          attempts.put(id, e.getActivityTaskStartedEventAttributes().getAttempt());
        }
        case EVENT_TYPE_ACTIVITY_TASK_COMPLETED ->
            finish(scheduled, attempts, e.getActivityTaskCompletedEventAttributes().getScheduledEventId(), at - t0, "completed");
        case EVENT_TYPE_ACTIVITY_TASK_FAILED ->
            finish(scheduled, attempts, e.getActivityTaskFailedEventAttributes().getScheduledEventId(), at - t0, "failed");
        case EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT ->
            finish(scheduled, attempts, e.getActivityTaskTimedOutEventAttributes().getScheduledEventId(), at - t0, "timed out");
        case EVENT_TYPE_ACTIVITY_TASK_CANCELED ->
            finish(scheduled, attempts, e.getActivityTaskCanceledEventAttributes().getScheduledEventId(), at - t0, "canceled");
        default -> { }
      }
    }
    return new JoinTimeline(new ArrayList<>(scheduled.values()), t0 < 0 ? 0 : end - t0);
  }

  private static void finish(Map<Long, Step> scheduled, Map<Long, Integer> attempts, long id, long atMs, String outcome) {
    Step s = scheduled.get(id);
    if (s != null) {
      scheduled.put(id, new Step(s.activity(), s.summary(), s.startMs(), atMs - s.startMs(),
          attempts.getOrDefault(id, 1), outcome));
    }
  }

  /** Per activity type, the wall time from its first schedule to its last end, in step order. */
  List<Span> spans() {
    Map<String, long[]> byType = new LinkedHashMap<>();
    for (Step s : steps) {
      long[] v = byType.computeIfAbsent(s.activity(), k -> new long[] {Long.MAX_VALUE, 0, 0});
      v[0] = Math.min(v[0], s.startMs());
      v[1] = Math.max(v[1], s.startMs() + s.durationMs());
      v[2]++;
    }
    List<Span> out = new ArrayList<>();
    byType.forEach((k, v) -> out.add(new Span(k, v[1] - v[0], (int) v[2])));
    return out;
  }

  /** The activity type with the longest wall time, or null for an empty history. */
  Span dominant() {
    return spans().stream().max(java.util.Comparator.comparingLong(Span::wallMs)).orElse(null);
  }

  String render() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("%-14s %8s %8s %4s  %-10s %s%n", "STEP", "START", "TOOK", "TRY", "OUTCOME", "SUMMARY"));
    for (Step s : steps) {
      b.append(String.format("%-14s %6d ms %5d ms %4d  %-10s %s%n", s.activity(), s.startMs(), s.durationMs(),
          s.attempts(), s.outcome(), s.summary()));
    }
    b.append("wall time per step:");
    for (Span s : spans()) {
      b.append(String.format(" %s %d ms (x%d);", s.activity(), s.wallMs(), s.count()));
    }
    Span d = dominant();
    if (d != null) {
      b.append(String.format("%ndominant step: %s (%d of %d ms)%n", d.activity(), d.wallMs(), totalMs));
    }
    return b.toString();
  }

  private static long millis(Timestamp t) {
    return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
  }
}
