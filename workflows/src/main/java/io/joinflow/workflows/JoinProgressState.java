package io.joinflow.workflows;

import io.joinflow.workflows.JoinProgress.GroupProgress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import io.temporal.workflow.Workflow;

/**
 * What a join shows of itself while it runs: its phase (also the JoinPhase search attribute),
 * each group's state, the time of the last change, the outcome, and a one-line summary of all of
 * it as the workflow's current details (the Web UI's "Current Details"). Workflow state: changed
 * only from the workflow thread, rebuilt by replay.
 */
final class JoinProgressState {
  private static final int MAX_LISTED_GROUPS = 12;

  private final Map<Integer, GroupProgress> groups = new TreeMap<>();
  private long nodeId;
  private String phase = JoinPhase.VALIDATE;
  private long startedAtMillis;
  private long updatedAtMillis;
  private String outcome = "";

  void start(long nodeId, long startedAtMillis) {
    this.nodeId = nodeId;
    this.startedAtMillis = startedAtMillis;
  }

  String phase() {
    return phase;
  }

  /** Enters a phase: upserts JoinPhase and the current details. */
  void phase(String newPhase) {
    phase = newPhase;
    updatedAtMillis = Workflow.currentTimeMillis();
    Workflow.upsertTypedSearchAttributes(JoinSearchAttributes.PHASE.valueSet(newPhase));
    Workflow.setCurrentDetails(details());
  }

  void group(int group, String state) {
    updatedAtMillis = Workflow.currentTimeMillis();
    groups.put(group, new GroupProgress(group, state, updatedAtMillis));
    Workflow.setCurrentDetails(details());
  }

  void outcome(String text) {
    outcome = text;
  }

  JoinProgress snapshot() {
    return new JoinProgress(nodeId, phase, startedAtMillis, updatedAtMillis, List.copyOf(groups.values()), outcome);
  }

  /** A one-line summary for the UI, e.g. "learners: 5/9 caught up; catching up: 1,2; pending: 3,7". */
  String details() {
    if (groups.isEmpty()) {
      return phase + ": node " + nodeId;
    }
    Map<String, List<Integer>> byState = new TreeMap<>();
    for (GroupProgress g : groups.values()) {
      byState.computeIfAbsent(g.state(), s -> new ArrayList<>()).add(g.groupId());
    }
    int caughtUp = byState.getOrDefault(JoinPhase.GROUP_CAUGHT_UP, List.of()).size();
    StringBuilder out = new StringBuilder(phase).append(": ").append(caughtUp).append('/').append(groups.size())
        .append(" caught up");
    appendGroups(out, "catching up", byState.get(JoinPhase.GROUP_LEARNER));
    appendGroups(out, "pending", byState.get(JoinPhase.GROUP_PENDING));
    appendGroups(out, "removed", byState.get(JoinPhase.GROUP_REMOVED));
    return out.toString();
  }

  private static void appendGroups(StringBuilder out, String label, List<Integer> ids) {
    if (ids == null || ids.isEmpty()) {
      return;
    }
    out.append("; ").append(label).append(": ");
    for (int i = 0; i < ids.size() && i < MAX_LISTED_GROUPS; i++) {
      out.append(i == 0 ? "" : ",").append(ids.get(i));
    }
    if (ids.size() > MAX_LISTED_GROUPS) {
      out.append(" +").append(ids.size() - MAX_LISTED_GROUPS).append(" more");
    }
  }
}
