package io.joinflow.worker;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.workflows.JoinSearchAttributes;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.AddSearchAttributesRequest;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.testserver.TestServer;
import java.io.IOException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection to Temporal: the embedded in-memory server (not durable: its workflows die with
 * the process) or a real cluster configured by {@code TEMPORAL_ADDRESS}, {@code
 * TEMPORAL_NAMESPACE}, {@code TEMPORAL_API_KEY} and {@code TEMPORAL_TLS_*} (temporal-envconfig).
 * Either way the join's search attributes are registered and the namespace is checked.
 */
public final class TemporalConnection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TemporalConnection.class);
  /** The embedded server accepts any namespace name without registration. */
  public static final String EMBEDDED_NAMESPACE = "default";

  private final WorkflowServiceStubs service;
  private final OperatorServiceStubs operator;
  private final WorkflowClient client;
  private final String target;
  private final TestServer.InProcessTestServer embedded;
  private final LoopbackFront front;

  private TemporalConnection(WorkflowServiceStubs service, OperatorServiceStubs operator, String namespace,
                             String target, TestServer.InProcessTestServer embedded, LoopbackFront front) {
    this.service = service;
    this.operator = operator;
    this.client = WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder().setNamespace(namespace).build());
    this.target = target;
    this.embedded = embedded;
    this.front = front;
  }

  /**
   * Starts the embedded server in this process (real time, no time skipping). With {@code port
   * > 0} it is also reachable on {@code 127.0.0.1:port} (loopback only) for other processes.
   */
  public static TemporalConnection embedded(int port) throws IOException {
    TestServer.InProcessTestServer server = TestServer.createServer(true);
    LoopbackFront front = null;
    try {
      String target = "in-process";
      if (port > 0) {
        front = new LoopbackFront("127.0.0.1", port, server.getChannel());
        target = "127.0.0.1:" + front.port();
      }
      WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(
          WorkflowServiceStubsOptions.newBuilder().setChannel(server.getChannel()).validateAndBuildWithDefaults());
      OperatorServiceStubs operator = OperatorServiceStubs.newServiceStubs(
          OperatorServiceStubsOptions.newBuilder().setChannel(server.getChannel()).validateAndBuildWithDefaults());
      TemporalConnection c = new TemporalConnection(service, operator, EMBEDDED_NAMESPACE, target, server, front);
      c.registerSearchAttributes();
      return c;
    } catch (IOException | RuntimeException e) {
      if (front != null) {
        front.close();
      }
      server.close();
      throw e;
    }
  }

  /**
   * Connects to the Temporal cluster the environment describes and fails fast, with a sentence
   * saying what to fix, when it is unreachable or the namespace does not exist.
   */
  public static TemporalConnection fromEnvironment() throws IOException {
    ClientConfigProfile profile = ClientConfigProfile.load();
    WorkflowServiceStubsOptions options = profile.toWorkflowServiceStubsOptions();
    String namespace = profile.getNamespace() == null || profile.getNamespace().isEmpty()
        ? "default" : profile.getNamespace();
    WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(options);
    OperatorServiceStubs operator = OperatorServiceStubs.newServiceStubs(OperatorServiceStubsOptions.newBuilder()
        .setChannel(service.getRawChannel()).validateAndBuildWithDefaults());
    String target = options.getTarget();
    try {
      service.blockingStub().describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(namespace).build());
    } catch (StatusRuntimeException e) {
      operator.shutdownNow();
      service.shutdownNow();
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        throw new IOException("Temporal namespace '" + namespace + "' does not exist at " + target
            + "; create it or set TEMPORAL_NAMESPACE", e);
      }
      throw new IOException("cannot reach Temporal at " + target + " (" + e.getStatus().getCode()
          + "); check TEMPORAL_ADDRESS and the TLS/API key settings", e);
    }
    TemporalConnection c = new TemporalConnection(service, operator, namespace, target, null, null);
    c.registerSearchAttributes();
    return c;
  }

  /** Registers JoinNodeId and JoinPhase once per namespace; already registered is fine. */
  private void registerSearchAttributes() {
    try {
      operator.blockingStub().addSearchAttributes(AddSearchAttributesRequest.newBuilder()
          .setNamespace(client.getOptions().getNamespace())
          .putAllSearchAttributes(Map.of(
              JoinSearchAttributes.NODE_ID.getName(), IndexedValueType.INDEXED_VALUE_TYPE_INT,
              JoinSearchAttributes.PHASE.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD))
          .build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.ALREADY_EXISTS) {
        return;
      }
      if (e.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
        LOG.warn("cannot register search attributes JoinNodeId/JoinPhase ({}); ask an operator to add them",
            e.getStatus().getDescription());
        return;
      }
      throw e;
    }
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkflowServiceStubs service() {
    return service;
  }

  /** Where other processes reach this Temporal ("in-process" for an embedded server without port). */
  public String target() {
    return target;
  }

  public boolean isEmbedded() {
    return embedded != null;
  }

  @Override
  public void close() {
    operator.shutdownNow();
    service.shutdownNow();
    if (front != null) {
      front.close();
    }
    if (embedded != null) {
      embedded.close();
    }
  }
}
