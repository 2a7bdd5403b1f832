package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TokenState;
import io.joinflow.workflows.JoinInput;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.JoinResult;
import io.joinflow.workflows.JoinWorkflow;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Join: checks the request and its join token ({@link JoinTokens}: the token is claimed for the
 * node's workflow before the workflow starts, and a refused token starts nothing), starts the node's join workflow or attaches to the one already
 * running for that node (conflict policy USE_EXISTING: a duplicate or retried Join never races
 * the first, W4), waits for its result and starts the node's promotion when it succeeded.
 */
final class JoinAdmission {
  private static final Logger LOG = LoggerFactory.getLogger(JoinAdmission.class);

  private final WorkflowClient client;
  private final ClusterMetadataSource source;
  private final ClusterId clusterId;
  private final JoinOptions options;
  private final TemporalEndpoint temporal;
  private final WorkflowWaits waits;
  private final JoinsInFlight inFlight;
  private final Promotions promotions;
  private final JoinTokens tokens;

  JoinAdmission(WorkflowClient client, ClusterMetadataSource source, ClusterId clusterId, JoinOptions options,
                TemporalEndpoint temporal, WorkflowWaits waits, JoinsInFlight inFlight, Promotions promotions,
                JoinTokens tokens) {
    this.tokens = tokens;
    this.client = client;
    this.source = source;
    this.clusterId = clusterId;
    this.options = options;
    this.temporal = temporal;
    this.waits = waits;
    this.inFlight = inFlight;
    this.promotions = promotions;
  }

  JoinResponse join(JoinRequest request) throws StatusException {
    JoinRequests.requireNodeId(request.getNodeId());
    // The canonical address: what the workflow carries, validate compares, summaries and logs show.
    String listenAddr = JoinRequests.listenAddr(request.getListenAddr());
    long cluster = clusterId.require();
    String workflowId = JoinWorkflow.workflowId(cluster, request.getNodeId());
    int wireVersion = request.getWireVersion() == 0 ? 1 : request.getWireVersion();
    WorkflowOptions wfOptions = WorkflowStarts.options(workflowId, request.getNodeId(), "validate",
        "join node " + Long.toUnsignedString(request.getNodeId()) + " at " + listenAddr + " into cluster "
            + Long.toUnsignedString(cluster));
    wfOptions = WorkflowOptions.newBuilder(wfOptions)
        .setMemo(Map.of(WorkflowStarts.LISTEN_ADDR_MEMO, listenAddr))
        .setStaticDetails(details(request, listenAddr, wireVersion, cluster))
        .build();
    JoinInput input = new JoinInput(request.getNodeId(), listenAddr, wireVersion, cluster, options);
    // Before any workflow starts: a refused token changes nothing.
    TokenRecord token = tokens.check(request.getToken(), request.getNodeId(), workflowId, false);
    if (token != null && token.getState() == TokenState.TOKEN_CONSUMED) {
      // Only the node asking again about the join this token admitted gets an answer.
      JoinResponse finished = answerFromFinishedRun(cluster, workflowId, request, listenAddr);
      if (finished == null) {
        throw JoinTokens.usedBy(token, Long.toUnsignedString(request.getNodeId()));
      }
      return finished;
    }
    if (token != null) {
      tokens.claim(request.getToken(), token, request.getNodeId(), workflowId);
    }
    JoinResponse finished = answerFromFinishedRun(cluster, workflowId, request, listenAddr);
    if (finished != null) {
      if (token != null) {
        tokens.settle(request.getNodeId(), workflowId, true);
      }
      return finished;
    }
    WorkflowExecution execution;
    try {
      execution = WorkflowClient.start(client.newWorkflowStub(JoinWorkflow.class, wfOptions)::join, input);
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      StatusException answer = TemporalFailures.toStatus(e, "start the join workflow " + workflowId);
      LOG.warn("node {}: {}", Long.toUnsignedString(request.getNodeId()), answer.getStatus().getDescription());
      if (token != null && !running(workflowId)) {
        tokens.settle(request.getNodeId(), workflowId, false);
      }
      throw answer;
    }
    WorkflowStub stub = client.newUntypedWorkflowStub(workflowId, Optional.of(execution.getRunId()), Optional.empty());
    requireSameAddress(stub, request.getNodeId(), listenAddr);
    LOG.info("node {}: waiting for {} run {}", Long.toUnsignedString(request.getNodeId()), workflowId,
        execution.getRunId());
    long waitMs = options.deadlineMillis() + Duration.ofMinutes(2).toMillis();
    JoinResult result;
    inFlight.waiting(workflowId, execution.getRunId());
    try {
      result = waits.awaitResult(stub, workflowId, waitMs, JoinResult.class, request.getNodeId(), "Join");
    } finally {
      inFlight.done(workflowId, execution.getRunId());
    }
    // A failed join gives its token back, unless another Join of the node has started a run
    // since, which holds the token now (it shares the workflow id).
    if (token != null && (result.success() || !running(workflowId))) {
      tokens.settle(request.getNodeId(), workflowId, result.success());
    }
    Status rejection = JoinResponses.rejection(result);
    if (rejection != null) {
      throw rejection.asException();
    }
    if (result.success()) {
      promotions.start(cluster, request.getNodeId(), result.cluster());
    }
    return withLink(JoinResponses.toProto(result, workflowId, execution.getRunId()));
  }

  /** Whether a run of {@code workflowId} is running; true when Temporal cannot tell (keep the token held). */
  private boolean running(String workflowId) {
    try {
      return client.newUntypedWorkflowStub(workflowId).describe().getStatus()
          == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    } catch (WorkflowNotFoundException e) {
      return false;
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      return true;
    }
  }

  private JoinResponse withLink(JoinResponse r) {
    return temporal.workflowUrl(r.getWorkflowId(), r.getRunId()).map(u -> r.toBuilder().setUiUrl(u).build()).orElse(r);
  }

  /**
   * The join's static details (Markdown, shown on its page in the Web UI): everything about the
   * request that does not fit the 200-byte summary.
   */
  private String details(JoinRequest request, String listenAddr, int wireVersion, long clusterId) {
    return "**Join of node " + Long.toUnsignedString(request.getNodeId()) + "** into cluster "
        + Long.toUnsignedString(clusterId) + "\n\n"
        + "| | |\n|---|---|\n"
        + "| node id | " + Long.toUnsignedString(request.getNodeId()) + " |\n"
        + "| listen address | `" + listenAddr + "` |\n"
        + "| wire version | " + wireVersion + " |\n"
        + "| incarnation | `" + (request.getIncarnation().isEmpty() ? "(not reported)" : request.getIncarnation()) + "` |\n"
        + "| deadline | " + options.deadlineMillis() / 1000 + " s, then compensate |\n"
        + "| learner additions at once | " + options.fanOut() + " |\n\n"
        + "Steps: prepare (validate, registerPeer, admit), addLearner and awaitLearner per group,"
        + " finish (persist, broadcast)."
        + " The `progress` query shows the phase and every group's state.";
  }

  /**
   * A Join attaches to the node's running join (USE_EXISTING), whatever address the running one
   * was started for. Two instances claiming one node id from two addresses must not share an
   * answer: the first one started wins, and this one is refused before it changes anything.
   */
  private static void requireSameAddress(WorkflowStub stub, long nodeId, String listenAddr) throws StatusException {
    Object running;
    try {
      running = stub.describe().getMemo(WorkflowStarts.LISTEN_ADDR_MEMO, String.class);
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      throw Status.UNAVAILABLE.withDescription("cannot read the running join of node " + Long.toUnsignedString(nodeId)
          + ": " + e.getMessage() + "; call Join again").asException();
    }
    // A run started before the memo existed carries none: its address is checked by validate.
    if (running != null && !running.equals(listenAddr)) {
      throw Status.ALREADY_EXISTS.withDescription("node_id " + Long.toUnsignedString(nodeId) + " is already joining"
          + " from " + running + " (request: " + listenAddr + "); one node id joins from one address: stop the"
          + " other instance, or give this one another --node-id").asException();
    }
  }

  /**
   * A Join repeated after its workflow finished (the node asks again because the gateway it
   * waited on stopped) is answered by that run, not by a second one, as long as the run
   * succeeded and group 0 still lists the node at the same address and incarnation (a node
   * that lost its disk is refused by a new run's validate, W10): one run per join. The
   * answer says {@code already_joined}. Anything else (no run, a failed or compensated run, a
   * node that left since) returns null: a new run decides.
   */
  private JoinResponse answerFromFinishedRun(long cluster, String workflowId, JoinRequest request, String addr)
      throws StatusException {
    WorkflowStub latest = client.newUntypedWorkflowStub(workflowId);
    WorkflowExecution execution;
    try {
      var description = latest.describe();
      if (description.getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
        return null;
      }
      execution = description.getExecution();
    } catch (WorkflowNotFoundException e) {
      return null;
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      LOG.debug("node {}: cannot describe {}: {}", request.getNodeId(), workflowId, e.getMessage());
      return null;
    }
    JoinResult result;
    try {
      result = client.newUntypedWorkflowStub(workflowId, Optional.of(execution.getRunId()), Optional.empty())
          .getResult(10, TimeUnit.SECONDS, JoinResult.class);
    } catch (TimeoutException | WorkflowException e) {
      return null;
    }
    if (!result.success()) {
      return null;
    }
    boolean stillMember = source.metadata().getNodesList().stream().anyMatch(n -> n.getNodeId() == request.getNodeId()
        && n.getAddr().equals(addr) && n.getIncarnation().equals(request.getIncarnation())
        && (n.getState() == NodeState.LEARNER || n.getState() == NodeState.ACTIVE));
    if (!stillMember) {
      return null;
    }
    LOG.info("node {}: {} run {} already joined it; answering from that run", request.getNodeId(), workflowId,
        execution.getRunId());
    // The run's result may be old: the promotion reads the node's membership itself.
    promotions.start(cluster, request.getNodeId(), null);
    return withLink(JoinResponses.toProto(result, workflowId, execution.getRunId()).toBuilder().setAlreadyJoined(true)
        .build());
  }
}
