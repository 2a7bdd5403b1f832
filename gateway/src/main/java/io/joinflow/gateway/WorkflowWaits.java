package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls waiting for a workflow's result. The workflow never depends on the wait: when this
 * gateway stops ({@link #stopWaiting}) or loses Temporal, the call is answered UNAVAILABLE and a
 * repeated call attaches to the workflow (or, if Temporal lost it, starts it again); nothing was
 * changed by the call itself.
 */
final class WorkflowWaits {
  private static final Logger LOG = LoggerFactory.getLogger(WorkflowWaits.class);

  /** Results calls are waiting for; cancelled when the gateway stops. */
  private final Set<CompletableFuture<?>> waits = ConcurrentHashMap.newKeySet();
  private volatile boolean stopping;

  /**
   * Waits for a workflow's result on behalf of a call.
   *
   * @param call the RPC waiting ("Join", "Leave"), named in the answer
   */
  <R> R awaitResult(WorkflowStub stub, String workflowId, long waitMs, Class<R> resultClass, long nodeId,
                    String call) throws StatusException {
    CompletableFuture<R> pending = stub.getResultAsync(waitMs, TimeUnit.MILLISECONDS, resultClass);
    waits.add(pending);
    try {
      if (stopping) {
        pending.cancel(false);
      }
      return pending.get();
    } catch (CancellationException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw stoppedWaiting(nodeId, workflowId, call, "this gateway is stopping");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof TimeoutException) {
        throw Status.DEADLINE_EXCEEDED.withDescription(workflowId + " is still running; call " + call
            + " again to attach to it").asException();
      }
      if (cause instanceof WorkflowFailedException) {
        throw Status.INTERNAL.withDescription(workflowId + " failed: " + cause.getMessage()).asException();
      }
      throw stoppedWaiting(nodeId, workflowId, call, "lost touch with Temporal (" + cause.getMessage() + ")");
    } finally {
      waits.remove(pending);
    }
  }

  private static StatusException stoppedWaiting(long nodeId, String workflowId, String call, String why) {
    LOG.warn("node {}: stopped waiting for {}: {}", nodeId, workflowId, why);
    return Status.UNAVAILABLE.withDescription("stopped waiting for " + workflowId + ": " + why + "; call " + call
        + " again to attach to it").asException();
  }

  /**
   * Answers every call waiting for a workflow UNAVAILABLE ("call again to attach to it"), and
   * any that starts waiting from now on; the workflows go on. For a gateway that stops.
   */
  void stopWaiting() {
    stopping = true;
    for (CompletableFuture<?> f : waits) {
      f.cancel(false);
    }
  }
}
