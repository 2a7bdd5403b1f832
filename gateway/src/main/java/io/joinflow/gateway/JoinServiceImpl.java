package io.joinflow.gateway;

import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.joinflow.proto.v1.BootstrapRequest;
import io.joinflow.proto.v1.BootstrapResponse;
import io.joinflow.proto.v1.ControlPromotionRequest;
import io.joinflow.proto.v1.CreateTokenRequest;
import io.joinflow.proto.v1.CreateTokenResponse;
import io.joinflow.proto.v1.ListTokensRequest;
import io.joinflow.proto.v1.ListTokensResponse;
import io.joinflow.proto.v1.RevokeTokenRequest;
import io.joinflow.proto.v1.RevokeTokenResponse;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GetPromotionRequest;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.LeaveRequest;
import io.joinflow.proto.v1.LeaveResponse;
import io.joinflow.proto.v1.ListJoinsRequest;
import io.joinflow.proto.v1.ListJoinsResponse;
import io.joinflow.proto.v1.PromotionProgress;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.JoinResult;
import io.joinflow.workflows.PromoteOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JoinService: the gRPC face of the gateway. Join ({@link JoinAdmission}) starts a node's join
 * workflow or attaches to the one running, and a successful join starts the node's promotion
 * ({@link Promotions}); Leave ({@link Leaves}) does the same with the leave workflow; GetJoin
 * and ListJoins read joins ({@link JoinQueries}); CreateToken, ListTokens and RevokeToken manage
 * join tokens ({@link JoinTokens}) and Bootstrap signs an empty node's certificate
 * ({@link NodeCertificates}). The cluster id is read once
 * ({@link ClusterId}); every other read is of group 0's records only.
 */
public final class JoinServiceImpl extends JoinServiceGrpc.JoinServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(JoinServiceImpl.class);

  private final WorkflowClient client;
  private final ClusterMetadataSource cluster;
  private final JoinOptions options;
  private final WorkflowWaits waits = new WorkflowWaits();
  private final JoinsInFlight inFlight;
  private final Promotions promotions;
  private final JoinAdmission admission;
  private final Leaves leaves;
  private final JoinQueries queries;
  private final JoinTokens tokens;
  private final NodeCertificates certificates;

  public JoinServiceImpl(WorkflowClient client, ClusterMetadataSource cluster, JoinOptions options) {
    this(client, cluster, options, PromoteOptions.defaults());
  }

  /**
   * @param promoteOptions tunables of the promotion a successful join starts
   */
  public JoinServiceImpl(WorkflowClient client, ClusterMetadataSource cluster, JoinOptions options,
                         PromoteOptions promoteOptions) {
    this(client, cluster, options, promoteOptions, TemporalEndpoint.unknown(client.getOptions().getNamespace()));
  }

  /**
   * @param temporal the Temporal {@code client} talks to: answers carry its Web UI links, and
   *     ListJoins reads its visibility when it can list workflows
   */
  public JoinServiceImpl(WorkflowClient client, ClusterMetadataSource cluster, JoinOptions options,
                         PromoteOptions promoteOptions, TemporalEndpoint temporal) {
    this(client, cluster, options, promoteOptions, temporal, JoinTokenPolicy.optional());
  }

  /**
   * @param tokens whether Join needs a join token, and the CA Bootstrap signs node certificates with
   */
  public JoinServiceImpl(WorkflowClient client, ClusterMetadataSource cluster, JoinOptions options,
                         PromoteOptions promoteOptions, TemporalEndpoint temporal, JoinTokenPolicy tokens) {
    this.client = client;
    this.cluster = cluster;
    this.options = options;
    this.inFlight = new JoinsInFlight(client);
    ClusterId clusterId = new ClusterId(cluster);
    this.promotions = new Promotions(client, clusterId, promoteOptions, temporal);
    this.tokens = new JoinTokens(cluster, java.time.Clock.systemUTC(), tokens.required());
    this.certificates = new NodeCertificates(tokens.ca(), this.tokens, clusterId);
    this.admission = new JoinAdmission(client, cluster, clusterId, options, temporal, waits, inFlight, promotions,
        this.tokens);
    this.leaves = new Leaves(client, clusterId, options, waits);
    this.queries = new JoinQueries(client, cluster, clusterId, temporal);
  }

  /** The joins this gateway's Join calls wait for, by phase (see {@link JoinsInFlight#bindTo}). */
  public JoinsInFlight joinsInFlight() {
    return inFlight;
  }

  @FunctionalInterface
  private interface Answer<T> {
    T get() throws StatusException;
  }

  /** Answers a call; a Temporal failure not turned into a status yet is described as {@code what} failing. */
  private static <T> void answer(StreamObserver<T> out, String what, Answer<T> answer) {
    T result;
    try {
      result = answer.get();
    } catch (StatusException e) {
      out.onError(e);
      return;
    } catch (WorkflowException e) {
      out.onError(TemporalFailures.toStatus(e, what));
      return;
    }
    out.onNext(result);
    out.onCompleted();
  }

  @Override
  public void join(JoinRequest request, StreamObserver<JoinResponse> out) {
    answer(out, "join", () -> join(request));
  }

  JoinResponse join(JoinRequest request) throws StatusException {
    return admission.join(request);
  }

  @Override
  public void leave(LeaveRequest request, StreamObserver<LeaveResponse> out) {
    answer(out, "leave", () -> leaves.leave(request));
  }

  @Override
  public void controlPromotion(ControlPromotionRequest request, StreamObserver<PromotionProgress> out) {
    answer(out, "steer the promotion", () -> promotions.control(request));
  }

  @Override
  public void getPromotion(GetPromotionRequest request, StreamObserver<PromotionProgress> out) {
    answer(out, "query the promotion", () -> promotions.get(request.getNodeId()));
  }

  @Override
  public void getJoin(GetJoinRequest request, StreamObserver<JoinProgress> out) {
    answer(out, "query the join", () -> queries.join(request.getNodeId()));
  }

  @Override
  public void listJoins(ListJoinsRequest request, StreamObserver<ListJoinsResponse> out) {
    answer(out, "list joins", queries::list);
  }

  @Override
  public void createToken(CreateTokenRequest request, StreamObserver<CreateTokenResponse> out) {
    answer(out, "create a join token", () -> tokens.create(request));
  }

  @Override
  public void listTokens(ListTokensRequest request, StreamObserver<ListTokensResponse> out) {
    answer(out, "list join tokens", tokens::list);
  }

  @Override
  public void revokeToken(RevokeTokenRequest request, StreamObserver<RevokeTokenResponse> out) {
    answer(out, "revoke a join token", () -> tokens.revoke(request));
  }

  @Override
  public void bootstrap(BootstrapRequest request, StreamObserver<BootstrapResponse> out) {
    answer(out, "sign a node certificate", () -> certificates.bootstrap(request));
  }

  /**
   * Answers every call waiting for a workflow UNAVAILABLE ("call again to attach to it"), and
   * any that starts waiting from now on; the workflows go on. For a gateway that stops.
   */
  void stopWaiting() {
    waits.stopWaiting();
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
              promotions.start(r.clusterId(), r.nodeId(), result.cluster());
            } else {
              LOG.info("node {}: recovered {} ended without joining: {}", r.nodeId(), r.workflowId(), result.error());
            }
          });
    }
    return recovered;
  }
}
