package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.rpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.v1.ChangeTokenRequest;
import io.joinflow.proto.v1.SetTokenState;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TokenState;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a join's end does to the join token it holds: the gateway moved the token to IN_FLIGHT
 * for the join's workflow id before it started the workflow, so persist and evict find it by
 * that id, without the workflow ever carrying the token. Persist consumes it, evict (the
 * compensation) gives it back (ISSUED), each by compare-and-set, so a retried step changes
 * nothing twice. A token that moved on meanwhile (revoked) is left as it is; a join without a
 * token (an insecure gateway) finds none.
 */
final class JoinTokenSettlement {
  private static final Logger LOG = LoggerFactory.getLogger(JoinTokenSettlement.class);

  private final NodeAdminPool pool;
  private final Clock clock;

  JoinTokenSettlement(NodeAdminPool pool, Clock clock) {
    this.pool = pool;
    this.clock = clock;
  }

  /** Moves every token IN_FLIGHT for {@code workflowId} to {@code next} (CONSUMED or ISSUED). */
  void settle(long nodeId, String workflowId, TokenState next) {
    List<TokenRecord> held = rpc(pool::tokens).stream()
        .filter(t -> t.getState() == TokenState.TOKEN_IN_FLIGHT && t.getWorkflowId().equals(workflowId)).toList();
    for (TokenRecord t : held) {
      ChangeTokenRequest request = ChangeTokenRequest.newBuilder().setSetState(SetTokenState.newBuilder()
          .setId(t.getId()).setExpected(TokenState.TOKEN_IN_FLIGHT).setExpectedWorkflowId(workflowId)
          .setNext(next).setNowMillis(clock.millis())).build();
      try {
        pool.changeToken(request);
        LOG.info("node {}: join token {} {}", Long.toUnsignedString(nodeId), t.getId(),
            next == TokenState.TOKEN_CONSUMED ? "consumed" : "usable again");
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) {
          throw NodeAdminFailures.of(e);
        }
        LOG.info("node {}: join token {} moved on meanwhile, left as it is: {}", Long.toUnsignedString(nodeId),
            t.getId(), e.getStatus().getDescription());
      }
    }
  }
}
