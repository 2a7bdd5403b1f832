package io.joinflow.node.membership;

import java.io.IOException;

/** A membership change or read that cannot be made; the message says why. */
public final class MembershipException extends IOException {
  private static final long serialVersionUID = 1L;
  private final boolean retryable;

  public MembershipException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** True when the same call may succeed later (no leader, a concurrent change, timeout). */
  public boolean retryable() {
    return retryable;
  }
}
