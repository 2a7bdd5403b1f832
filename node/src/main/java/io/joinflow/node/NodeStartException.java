package io.joinflow.node;

/** A node cannot start; the message is one sentence saying what to fix. */
public final class NodeStartException extends Exception {
  private static final long serialVersionUID = 1L;

  public NodeStartException(String message) {
    super(message);
  }

  public NodeStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
