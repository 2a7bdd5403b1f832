package io.joinflow.workflows;

/** The phases and per-group states of promotion and leave, as their progress queries show them. */
public final class PromotePhase {
  public static final String DESCRIBE = "describe";
  public static final String GROUPS = "groups";
  public static final String PLAN = "plan";
  public static final String DRAIN = "drain";
  public static final String PERSIST = "persist";
  public static final String BROADCAST = "broadcast";
  public static final String DONE = "done";
  public static final String FAILED = "failed";
  public static final String REFUSED = "refused";

  /** Per-group states of a promotion. */
  public static final String GROUP_PENDING = "pending";
  public static final String GROUP_CATCHING_UP = "catching-up";
  public static final String GROUP_STABILIZING = "stabilizing";
  public static final String GROUP_VOTER = "voter";
  public static final String GROUP_LEARNER = "learner";

  /** Per-group states of a leave. */
  public static final String GROUP_MOVING_LEADERSHIP = "moving-leadership";
  public static final String GROUP_REMOVING = "removing";
  public static final String GROUP_REMOVED = "removed";

  private PromotePhase() {}
}
