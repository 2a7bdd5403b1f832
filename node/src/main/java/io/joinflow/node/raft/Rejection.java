package io.joinflow.node.raft;

import io.grpc.Status;
import org.apache.ratis.protocol.exceptions.StateMachineException;

/**
 * A command refused before it was appended to a group's log. It travels to the Ratis client as
 * a {@link StateMachineException} whose message starts with the gRPC code name, so the node can
 * answer its own caller with the same status.
 */
public final class Rejection {
  private static final String SEPARATOR = ": ";

  private Rejection() {}

  public static StateMachineException of(Status.Code code, String message) {
    return new StateMachineException(code.name() + SEPARATOR + message);
  }

  /** The status carried by a rejection message, or null if the message is not one. */
  public static Status parse(String message) {
    if (message == null) {
      return null;
    }
    // Ratis may prefix the message with the server id; find the code anywhere.
    for (Status.Code code : Status.Code.values()) {
      String prefix = code.name() + SEPARATOR;
      int at = message.indexOf(prefix);
      if (at >= 0 && code != Status.Code.OK) {
        return code.toStatus().withDescription(message.substring(at + prefix.length()));
      }
    }
    return null;
  }
}
