package io.joinflow.worker;

import com.google.protobuf.util.Durations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.namespace.v1.NamespaceConfig;
import io.temporal.api.operatorservice.v1.AddSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.api.workflowservice.v1.DescribeNamespaceResponse;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.api.workflowservice.v1.UpdateNamespaceRequest;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a {@link TemporalConnection} checks of a Temporal before anything runs on it: the
 * namespace exists and the credentials are accepted, the server version is new enough, and the
 * join's search attributes are registered with their types. Each failure is an
 * {@link IOException} whose message says what to fix.
 */
final class TemporalChecks {
  private static final Logger LOG = LoggerFactory.getLogger(TemporalConnection.class);
  private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(10);

  private TemporalChecks() {}

  static DescribeNamespaceResponse describeNamespace(WorkflowServiceStubs service, String namespace,
                                                             String target) throws IOException {
    try {
      return service.blockingStub().withDeadlineAfter(CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(namespace).build());
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.NOT_FOUND) {
        throw new IOException("Temporal namespace '" + namespace + "' does not exist at " + target
            + "; create it (temporal operator namespace create --namespace " + namespace + ") or set TEMPORAL_NAMESPACE", e);
      }
      if (code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNAUTHENTICATED) {
        throw new IOException("Temporal at " + target + " refused these credentials for namespace '" + namespace
            + "' (" + code + ": " + e.getStatus().getDescription() + "); check TEMPORAL_API_KEY or the"
            + " TEMPORAL_TLS_CLIENT_* certificate", e);
      }
      throw new IOException("cannot reach Temporal at " + target + " (" + code + (e.getStatus().getDescription() == null
          ? "" : ": " + e.getStatus().getDescription()) + "); check TEMPORAL_ADDRESS and the TLS/API key settings", e);
    }
  }

  /**
   * The version the server reports ("" for the Java test server, which reports none); refuses
   * one that is too old, warns about one that drops summaries.
   */
  static String checkServerVersion(WorkflowServiceStubs service, String target) throws IOException {
    String reported;
    try {
      reported = service.blockingStub().withDeadlineAfter(CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .getSystemInfo(GetSystemInfoRequest.getDefaultInstance()).getServerVersion();
    } catch (StatusRuntimeException e) {
      LOG.warn("cannot read the version of the Temporal server at {} ({}); not checking it", target, e.getStatus());
      return "unknown";
    }
    if (reported.isEmpty()) {
      LOG.warn("the Temporal at {} reports no version: it behaves like the in-memory test server (another joinflow"
          + " dev's embedded Temporal?), so workflows are not listed and sticky execution is off", target);
      return "";
    }
    Optional<TemporalServerVersion> version = TemporalServerVersion.parse(reported);
    if (version.isEmpty()) {
      LOG.info("Temporal server at {} reports version '{}'; not checking it", target, reported);
      return reported;
    }
    Optional<String> refusal = version.get().refusal(target);
    if (refusal.isPresent()) {
      throw new IOException(refusal.get());
    }
    version.get().warning(target).ifPresent(LOG::warn);
    return version.get().text();
  }

  /** Adds the join's search attributes; a server that does not let this client do it is checked below. */
  static void addSearchAttributes(OperatorServiceStubs operator, String namespace) {
    Map<String, IndexedValueType> attributes = new HashMap<>();
    JoinSearchAttributeTypes.REQUIRED.forEach((name, type) -> attributes.put(name, type.api));
    try {
      operator.blockingStub().withDeadlineAfter(CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .addSearchAttributes(AddSearchAttributesRequest.newBuilder().setNamespace(namespace)
              .putAllSearchAttributes(attributes).build());
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.ALREADY_EXISTS || code == Status.Code.PERMISSION_DENIED
          || code == Status.Code.UNIMPLEMENTED || code == Status.Code.UNAUTHENTICATED) {
        // Existing (older servers), or not ours to register (Temporal Cloud): verified next.
        LOG.debug("adding search attributes on {}: {}", namespace, e.getStatus());
        return;
      }
      throw e;
    }
  }

  /**
   * Registers the join's search attributes and verifies names and types: a server answers OK to
   * adding an existing attribute even with another type, and Temporal Cloud never lets an SDK
   * client add one. Starting a join with a missing attribute fails on the server, so a worker or
   * gateway refuses to start instead.
   */
  static void ensureSearchAttributes(OperatorServiceStubs operator, String namespace, String target,
                                     boolean testServer) throws IOException {
    addSearchAttributes(operator, namespace);
    if (testServer) {
      // The test server cannot list them back (UNIMPLEMENTED); it accepts what was added.
      return;
    }
    Map<String, IndexedValueType> registered;
    try {
      registered = operator.blockingStub()
          .withDeadlineAfter(CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .listSearchAttributes(ListSearchAttributesRequest.newBuilder().setNamespace(namespace).build())
          .getCustomAttributesMap();
    } catch (StatusRuntimeException e) {
      LOG.warn("cannot list the search attributes of namespace {} at {} ({}); if JoinNodeId (Int) and JoinPhase"
          + " (Keyword) are missing, joins will be refused", namespace, target, e.getStatus());
      return;
    }
    List<String> problems = JoinSearchAttributeTypes.problems(registered, namespace);
    if (!problems.isEmpty()) {
      throw new IOException(String.join("; ", problems));
    }
  }

  /** A dev server keeps closed runs 24 h; joinflow's own keeps a join's history {@code retention}. */
  static void extendRetention(WorkflowServiceStubs service, String namespace, String target, Duration retention)
      throws IOException {
    NamespaceConfig config = describeNamespace(service, namespace, target).getConfig();
    if (config.hasWorkflowExecutionRetentionTtl()
        && config.getWorkflowExecutionRetentionTtl().getSeconds() >= retention.toSeconds()) {
      return;
    }
    try {
      service.blockingStub().updateNamespace(UpdateNamespaceRequest.newBuilder().setNamespace(namespace)
          .setConfig(NamespaceConfig.newBuilder()
              .setWorkflowExecutionRetentionTtl(Durations.fromSeconds(retention.toSeconds())))
          .build());
    } catch (StatusRuntimeException e) {
      LOG.warn("cannot extend the retention of namespace {} on the dev server: {}", namespace, e.getStatus());
    }
  }
}
