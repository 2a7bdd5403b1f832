package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GroupProgress;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.ListJoinsRequest;
import io.joinflow.proto.v1.ListJoinsResponse;
import io.joinflow.workflows.JoinInput;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.JoinResult;
import io.joinflow.workflows.JoinSearchAttributes;
import io.joinflow.workflows.JoinWorkflow;
import io.joinflow.workflows.LeaveInput;
import io.joinflow.workflows.LeaveResult;
import io.joinflow.workflows.LeaveWorkflow;
import io.joinflow.workflows.PromoteInput;
import io.joinflow.workflows.PromoteOptions;
import io.joinflow.workflows.PromoteProgress;
import io.joinflow.workflows.PromoteWorkflow;
import io.joinflow.workflows.Summaries;
import io.joinflow.proto.v1.ControlPromotionRequest;
import io.joinflow.proto.v1.GetPromotionRequest;
import io.joinflow.proto.v1.LeaveRequest;
import io.joinflow.proto.v1.LeaveResponse;
import io.joinflow.proto.v1.PromotionProgress;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * JoinService: starts a node's join workflow, or attaches to the one already running for that
 * node (conflict policy USE_EXISTING: a duplicate or retried Join never races the first, W4),
 * then waits for its result. A successful join starts the node's promotion workflow; Leave
 * starts (or attaches to) its leave workflow the same way.
 */
public final class JoinServiceImpl extends JoinServiceGrpc.JoinServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(JoinServiceImpl.class);

  /** Memo of a join workflow: the normalized listen address the join was started for. */
  static final String LISTEN_ADDR_MEMO = "listen_addr";

  private final WorkflowClient client;
  private final ClusterViewSource cluster;
  private final JoinOptions options;
  private final PromoteOptions promoteOptions;
  private final TemporalEndpoint temporal;
  /** Results calls are waiting for; cancelled when the gateway stops. */
  private final Set<CompletableFuture<?>> waits = ConcurrentHashMap.newKeySet();
  private volatile boolean stopping;
  private final JoinsInFlight inFlight;

  public JoinServiceImpl(WorkflowClient client, ClusterViewSource cluster, JoinOptions options) {
    this(client, cluster, options, PromoteOptions.defaults());
  }

  /**
   * @param promoteOptions tunables of the promotion a successful join starts
   */
  public JoinServiceImpl(WorkflowClient client, ClusterViewSource cluster, JoinOptions options,
                         PromoteOptions promoteOptions) {
    this(client, cluster, options, promoteOptions, TemporalEndpoint.unknown(client.getOptions().getNamespace()));
  }

  /**
   * @param temporal the Temporal {@code client} talks to: answers carry its Web UI links, and
   *     ListJoins reads its visibility when it can list workflows
   */
  public JoinServiceImpl(WorkflowClient client, ClusterViewSource cluster, JoinOptions options,
                         PromoteOptions promoteOptions, TemporalEndpoint temporal) {
    this.client = client;
    this.cluster = cluster;
    this.options = options;
    this.promoteOptions = promoteOptions;
    this.temporal = temporal;
    this.inFlight = new JoinsInFlight(client);
  }

  /** The joins this gateway's Join calls wait for, by phase (see {@link JoinsInFlight#bindTo}). */
  public JoinsInFlight joinsInFlight() {
    return inFlight;
  }

  @Override
  public void join(JoinRequest request, StreamObserver<JoinResponse> out) {
    try {
      out.onNext(join(request));
      out.onCompleted();
    } catch (StatusException e) {
      out.onError(e);
    }
  }

  JoinResponse join(JoinRequest request) throws StatusException {
    if (request.getNodeId() == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("node_id must be non-zero").asException();
    }
    String listenAddr;
    try {
      listenAddr = HostPort.parse(request.getListenAddr()).toString();
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription("invalid listen_addr '" + request.getListenAddr() + "': "
          + e.getMessage()).asException();
    }
    long clusterId = cluster.view().getClusterId();
    if (clusterId == 0) {
      throw Status.UNAVAILABLE.withDescription("the cluster is not bootstrapped yet").asException();
    }
    String workflowId = JoinWorkflow.workflowId(clusterId, request.getNodeId());
    int wireVersion = request.getWireVersion() == 0 ? 1 : request.getWireVersion();
    WorkflowOptions wfOptions = startOptions(workflowId, request.getNodeId(), "validate",
        "join node " + Long.toUnsignedString(request.getNodeId()) + " at " + listenAddr + " into cluster "
            + Long.toUnsignedString(clusterId));
    wfOptions = WorkflowOptions.newBuilder(wfOptions)
        .setMemo(Map.of(LISTEN_ADDR_MEMO, listenAddr))
        .setStaticDetails(joinDetails(request, listenAddr, wireVersion, clusterId))
        .build();
    // The canonical address: what validate compares, what summaries and logs show.
    JoinInput input = new JoinInput(request.getNodeId(), listenAddr, wireVersion, clusterId, options);
    JoinResponse finished = answerFromFinishedRun(workflowId, request, listenAddr);
    if (finished != null) {
      return finished;
    }
    WorkflowExecution execution;
    try {
      execution = WorkflowClient.start(client.newWorkflowStub(JoinWorkflow.class, wfOptions)::join, input);
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      StatusException answer = TemporalFailures.toStatus(e, "start the join workflow " + workflowId);
      LOG.warn("node {}: {}", Long.toUnsignedString(request.getNodeId()), answer.getStatus().getDescription());
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
      result = awaitResult(stub, workflowId, waitMs, JoinResult.class, request.getNodeId(), "Join");
    } finally {
      inFlight.done(workflowId, execution.getRunId());
    }
    Status rejection = JoinResponses.rejection(result);
    if (rejection != null) {
      throw rejection.asException();
    }
    if (result.success()) {
      startPromotion(clusterId, request.getNodeId());
    }
    return withLink(JoinResponses.toProto(result, workflowId, execution.getRunId()));
  }

  private JoinResponse withLink(JoinResponse r) {
    return temporal.workflowUrl(r.getWorkflowId(), r.getRunId()).map(u -> r.toBuilder().setUiUrl(u).build()).orElse(r);
  }

  /**
   * The join's static details (Markdown, shown on its page in the Web UI): everything about the
   * request that does not fit the 200-byte summary.
   */
  private String joinDetails(JoinRequest request, String listenAddr, int wireVersion, long clusterId) {
    return "**Join of node " + Long.toUnsignedString(request.getNodeId()) + "** into cluster "
        + Long.toUnsignedString(clusterId) + "\n\n"
        + "| | |\n|---|---|\n"
        + "| node id | " + Long.toUnsignedString(request.getNodeId()) + " |\n"
        + "| listen address | `" + listenAddr + "` |\n"
        + "| wire version | " + wireVersion + " |\n"
        + "| incarnation | `" + (request.getIncarnation().isEmpty() ? "(not reported)" : request.getIncarnation()) + "` |\n"
        + "| deadline | " + options.deadlineMillis() / 1000 + " s, then compensate |\n"
        + "| learner additions at once | " + options.fanOut() + " |\n\n"
        + "Steps: validate, registerPeer, admit, addLearner and awaitLearner per group, persist, broadcast."
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
      running = stub.describe().getMemo(LISTEN_ADDR_MEMO, String.class);
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
  private JoinResponse answerFromFinishedRun(String workflowId, JoinRequest request, String addr)
      throws StatusException {
    WorkflowStub latest = client.newUntypedWorkflowStub(workflowId);
    WorkflowExecution execution;
    try {
      var description = latest.describe();
      if (description.getStatus() != io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
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
    boolean stillMember = cluster.view().getNodesList().stream().anyMatch(n -> n.getNodeId() == request.getNodeId()
        && n.getAddr().equals(addr) && n.getIncarnation().equals(request.getIncarnation()) && (n.getState() == io.joinflow.proto.v1.NodeState.LEARNER
            || n.getState() == io.joinflow.proto.v1.NodeState.ACTIVE));
    if (!stillMember) {
      return null;
    }
    LOG.info("node {}: {} run {} already joined it; answering from that run", request.getNodeId(), workflowId,
        execution.getRunId());
    startPromotion(cluster.view().getClusterId(), request.getNodeId());
    return withLink(JoinResponses.toProto(result, workflowId, execution.getRunId()).toBuilder().setAlreadyJoined(true)
        .build());
  }

  /**
   * Starts the node's promotion, or attaches to the one running (USE_EXISTING). A node that is
   * already a voter everywhere makes it finish at once. A failure to start is logged, not
   * returned: the join itself succeeded, and the next Join of the node starts it again.
   */
  void startPromotion(long clusterId, long nodeId) {
    String workflowId = PromoteWorkflow.workflowId(clusterId, nodeId);
    WorkflowOptions wfOptions = startOptions(workflowId, nodeId, "promote-describe",
        "promote node " + Long.toUnsignedString(nodeId) + " to voter in cluster "
            + Long.toUnsignedString(clusterId));
    try {
      WorkflowExecution e = WorkflowClient.start(client.newWorkflowStub(PromoteWorkflow.class, wfOptions)::promote,
          new PromoteInput(nodeId, clusterId, promoteOptions));
      LOG.info("node {}: promotion {} run {}", nodeId, workflowId, e.getRunId());
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      LOG.warn("node {}: {}; join the node again to retry", Long.toUnsignedString(nodeId),
          TemporalFailures.toStatus(e, "start " + workflowId).getStatus().getDescription());
    }
  }

  @Override
  public void leave(LeaveRequest request, StreamObserver<LeaveResponse> out) {
    try {
      out.onNext(leave(request));
      out.onCompleted();
    } catch (StatusException e) {
      out.onError(e);
    }
  }

  LeaveResponse leave(LeaveRequest request) throws StatusException {
    if (request.getNodeId() == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("node_id must be non-zero").asException();
    }
    long clusterId = cluster.view().getClusterId();
    if (clusterId == 0) {
      throw Status.UNAVAILABLE.withDescription("the cluster is not bootstrapped yet").asException();
    }
    String workflowId = LeaveWorkflow.workflowId(clusterId, request.getNodeId());
    WorkflowOptions wfOptions = startOptions(workflowId, request.getNodeId(), "leave-plan",
        "decommission node " + Long.toUnsignedString(request.getNodeId()) + " of cluster "
            + Long.toUnsignedString(clusterId));
    WorkflowExecution execution;
    try {
      execution = WorkflowClient.start(client.newWorkflowStub(LeaveWorkflow.class, wfOptions)::leave,
          new LeaveInput(request.getNodeId(), clusterId, options.fanOut()));
    } catch (WorkflowException | io.grpc.StatusRuntimeException e) {
      StatusException answer = TemporalFailures.toStatus(e, "start the leave workflow " + workflowId);
      LOG.warn("node {}: {}", Long.toUnsignedString(request.getNodeId()), answer.getStatus().getDescription());
      throw answer;
    }
    WorkflowStub stub = client.newUntypedWorkflowStub(workflowId, Optional.of(execution.getRunId()), Optional.empty());
    LeaveResult result = awaitResult(stub, workflowId, LEAVE_WAIT.toMillis(), LeaveResult.class,
        request.getNodeId(), "Leave");
    if (!result.success() && !result.errorCode().isEmpty()) {
      throw JoinResponses.status(result.errorCode()).withDescription(result.error()).asException();
    }
    return JoinResponses.toProto(result, workflowId, execution.getRunId());
  }

  /**
   * Waits for a workflow's result on behalf of a call. The workflow never depends on the wait:
   * when this gateway stops ({@link #stopWaiting}) or loses Temporal, the call is answered
   * UNAVAILABLE and a repeated call attaches to the workflow (or, if Temporal lost it, starts it
   * again); nothing was changed by the call itself.
   *
   * @param call the RPC waiting ("Join", "Leave"), named in the answer
   */
  private <R> R awaitResult(WorkflowStub stub, String workflowId, long waitMs, Class<R> resultClass, long nodeId,
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

  /** How long Leave waits for its workflow (its steps are bounded by a few minutes each). */
  private static final Duration LEAVE_WAIT = Duration.ofMinutes(10);

  @Override
  public void controlPromotion(ControlPromotionRequest request, StreamObserver<PromotionProgress> out) {
    try {
      String signal = switch (request.getAction()) {
        case PAUSE -> "pause";
        case RESUME -> "resume";
        case PROMOTE_NOW -> "promoteNow";
        default -> throw Status.INVALID_ARGUMENT.withDescription("action must be PAUSE, RESUME or PROMOTE_NOW")
            .asException();
      };
      WorkflowStub stub = promotionStub(request.getNodeId());
      try {
        stub.signal(signal);
      } catch (WorkflowNotFoundException e) {
        throw Status.NOT_FOUND.withDescription("no promotion of node " + request.getNodeId() + " is running")
            .asException();
      }
      out.onNext(promotion(stub, request.getNodeId()));
      out.onCompleted();
    } catch (StatusException e) {
      out.onError(e);
    } catch (WorkflowException e) {
      out.onError(TemporalFailures.toStatus(e, "steer the promotion"));
    }
  }

  @Override
  public void getPromotion(GetPromotionRequest request, StreamObserver<PromotionProgress> out) {
    try {
      out.onNext(promotion(promotionStub(request.getNodeId()), request.getNodeId()));
      out.onCompleted();
    } catch (StatusException e) {
      out.onError(e);
    } catch (WorkflowException e) {
      out.onError(TemporalFailures.toStatus(e, "query the promotion"));
    }
  }

  private WorkflowStub promotionStub(long nodeId) throws StatusException {
    if (nodeId == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("node_id must be non-zero").asException();
    }
    return client.newUntypedWorkflowStub(PromoteWorkflow.workflowId(cluster.view().getClusterId(), nodeId));
  }

  private PromotionProgress promotion(WorkflowStub stub, long nodeId) throws StatusException {
    try {
      PromoteProgress p = stub.query("progress", PromoteProgress.class);
      WorkflowExecution execution = stub.describe().getExecution();
      PromotionProgress proto = JoinResponses.toProto(p, execution.getWorkflowId(), execution.getRunId());
      return temporal.workflowUrl(execution.getWorkflowId(), execution.getRunId())
          .map(u -> proto.toBuilder().setUiUrl(u).build()).orElse(proto);
    } catch (WorkflowNotFoundException e) {
      throw Status.NOT_FOUND.withDescription("no promotion of node " + nodeId + " is known").asException();
    }
  }

  @Override
  public void getJoin(GetJoinRequest request, StreamObserver<JoinProgress> out) {
    try {
      ClusterView view = cluster.view();
      String workflowId = JoinWorkflow.workflowId(view.getClusterId(), request.getNodeId());
      JoinRecord record = view.getJoinsList().stream()
          .filter(j -> j.getNodeId() == request.getNodeId()).findFirst().orElse(null);
      JoinProgress.Builder b = JoinProgress.newBuilder().setWorkflowId(workflowId).setNodeId(request.getNodeId())
          .setTemporal(temporal.toProto());
      if (record != null) {
        b.setRecord(record);
      }
      try {
        WorkflowStub stub = client.newUntypedWorkflowStub(workflowId);
        io.joinflow.workflows.JoinProgress p = stub.query("progress", io.joinflow.workflows.JoinProgress.class);
        // A stub made from an id alone learns its run only by asking.
        WorkflowExecutionDescription d = stub.describe();
        Object recovered = d.getMemo(JoinRecovery.MEMO_KEY, String.class);
        if (recovered != null) {
          b.setRecovered(recovered.toString());
        }
        temporal.workflowUrl(workflowId, d.getExecution().getRunId()).ifPresent(b::setUiUrl);
        b.setRunId(d.getExecution().getRunId())
            .setPhase(p.phase())
            .setStartedAtMillis(p.startedAtMillis())
            .setUpdatedAtMillis(p.updatedAtMillis())
            .setOutcome(p.outcome() == null ? "" : p.outcome());
        for (io.joinflow.workflows.JoinProgress.GroupProgress g : p.groups()) {
          b.addGroups(GroupProgress.newBuilder().setGroupId(g.groupId()).setState(g.state())
              .setUpdatedAtMillis(g.updatedAtMillis()));
        }
      } catch (WorkflowNotFoundException e) {
        if (record == null) {
          throw Status.NOT_FOUND.withDescription("no join of node " + request.getNodeId() + " is known")
              .asException();
        }
        b.setPhase(record.getPhase()).setOutcome(record.getOutcome());
      }
      out.onNext(b.build());
      out.onCompleted();
    } catch (StatusException e) {
      out.onError(e);
    } catch (WorkflowException e) {
      out.onError(TemporalFailures.toStatus(e, "query the join"));
    }
  }

  @Override
  public void listJoins(ListJoinsRequest request, StreamObserver<ListJoinsResponse> out) {
    try {
      ListJoinsResponse.Builder b = ListJoinsResponse.newBuilder().addAllJoins(cluster.view().getJoinsList())
          .setTemporal(temporal.toProto())
          .setSource("group0");
      if (temporal.listsWorkflows()) {
        b.addAllRuns(JoinListing.runs(client, temporal)).setSource("temporal");
      }
      out.onNext(b.build());
      out.onCompleted();
    } catch (StatusException e) {
      out.onError(e);
    }
  }

  /**
   * Starts again every join group 0 records as pending whose workflow no longer exists (see
   * {@link JoinRecovery}). A recovered join that succeeds starts the node's promotion, as a
   * successful Join does.
   *
   * @return the joins started again
   * @throws StatusException UNAVAILABLE when the cluster or Temporal cannot be asked; scanning
   *     again later is safe
   */
  List<JoinRecovery.RecoveredJoin> recoverLostJoins() throws StatusException {
    List<JoinRecovery.RecoveredJoin> recovered = new JoinRecovery(client, cluster, options).run();
    for (JoinRecovery.RecoveredJoin r : recovered) {
      client.newUntypedWorkflowStub(r.workflowId(), Optional.of(r.runId()), Optional.empty())
          .getResultAsync(JoinResult.class)
          .whenComplete((result, failure) -> {
            if (failure != null) {
              LOG.warn("node {}: no result of recovered {}: {}", r.nodeId(), r.workflowId(), failure.toString());
            } else if (result.success()) {
              startPromotion(r.clusterId(), r.nodeId());
            } else {
              LOG.info("node {}: recovered {} ended without joining: {}", r.nodeId(), r.workflowId(), result.error());
            }
          });
    }
    return recovered;
  }

  /**
   * Options every workflow this gateway starts shares: the workflow id is per node, and a
   * repeated request attaches to the running workflow (USE_EXISTING) instead of racing it.
   */
  static WorkflowOptions startOptions(String workflowId, long nodeId, String phase, String summary) {
    return WorkflowOptions.newBuilder()
        .setWorkflowId(workflowId)
        .setTaskQueue(JoinWorkflow.TASK_QUEUE)
        .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
        .setTypedSearchAttributes(SearchAttributes.newBuilder()
            .set(JoinSearchAttributes.NODE_ID, nodeId)
            .set(JoinSearchAttributes.PHASE, phase)
            .build())
        .setStaticSummary(Summaries.fit(summary))
        .build();
  }
}
