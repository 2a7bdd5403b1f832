package io.joinflow.workflows;

/** The phases a join moves through, as the progress query and the JoinPhase attribute show. */
public final class JoinPhase {
  public static final String VALIDATE = "validate";
  public static final String REGISTER_PEER = "registerPeer";
  public static final String ADMIT = "admit";
  public static final String LEARNERS = "learners";
  public static final String PERSIST = "persist";
  public static final String BROADCAST = "broadcast";
  public static final String DONE = "done";
  public static final String REJECTED = "rejected";
  public static final String COMPENSATING = "compensating";
  public static final String COMPENSATED = "compensated";

  /** Per-group states. */
  public static final String GROUP_PENDING = "pending";
  public static final String GROUP_LEARNER = "learner";
  public static final String GROUP_CAUGHT_UP = "caught-up";
  public static final String GROUP_REMOVED = "removed";

  private JoinPhase() {}
}
