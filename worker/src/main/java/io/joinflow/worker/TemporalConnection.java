package io.joinflow.worker;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.envconfig.LoadClientConfigProfileOptions;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.testserver.TestServer;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A connection to Temporal, in one of three modes with the same code above it:
 * <ul>
 *   <li>{@link Mode#CLI}: the Temporal CLI's dev server as a child process (a real server with
 *       SQLite persistence and the Web UI), owned and stopped by this connection;
 *   <li>{@link Mode#EMBEDDED}: the Java in-memory test server in this process (no UI, no listing,
 *       not durable: its workflows die with the process);
 *   <li>{@link Mode#ENV}: any Temporal cluster or Temporal Cloud, configured by
 *       {@code TEMPORAL_ADDRESS}, {@code TEMPORAL_NAMESPACE}, {@code TEMPORAL_API_KEY},
 *       {@code TEMPORAL_TLS_*} and {@code TEMPORAL_GRPC_META_*} (temporal-envconfig).
 * </ul>
 * Opening a connection to a real server checks what joinflow needs and fails fast with a
 * sentence saying what to fix: the namespace exists, the server version is new enough, and the
 * join's search attributes are registered with their types (registered here when the server
 * lets this client do it). Operator calls go out with the same credentials and metadata as the
 * workflow client.
 */
public final class TemporalConnection implements AutoCloseable {
  /** The embedded server accepts any namespace name without registration. */
  public static final String EMBEDDED_NAMESPACE = "default";
  /** The namespace joinflow creates on a dev server it starts. */
  public static final String DEV_NAMESPACE = "joinflow";
  /** How long a dev server joinflow starts keeps a closed join's history (the dev server's own default: 24 h). */
  static final Duration DEV_RETENTION = Duration.ofDays(30);

  /** Which kind of Temporal a connection talks to. */
  public enum Mode {
    EMBEDDED, CLI, ENV;

    /** The name commands print and put in JSON ({@code temporal_mode}). */
    public String label() {
      return name().toLowerCase();
    }
  }

  private final Mode mode;
  private final WorkflowServiceStubs service;
  private final OperatorServiceStubs operator;
  private final WorkflowClient client;
  private final String target;
  private final String uiUrl;
  private final String serverVersion;
  private final TestServer.InProcessTestServer embedded;
  private final LoopbackFront front;
  private final TemporalDevServer devServer;

  private TemporalConnection(Mode mode, WorkflowServiceStubs service, OperatorServiceStubs operator,
                             WorkflowClientOptions clientOptions, String target, String uiUrl, String serverVersion,
                             TestServer.InProcessTestServer embedded, LoopbackFront front, TemporalDevServer devServer) {
    this.mode = mode;
    this.service = service;
    this.operator = operator;
    this.client = WorkflowClient.newInstance(service, clientOptions);
    this.target = target;
    this.uiUrl = uiUrl;
    this.serverVersion = serverVersion;
    this.embedded = embedded;
    this.front = front;
    this.devServer = devServer;
  }

  /**
   * Starts the embedded server in this process (real time, no time skipping). With {@code port
   * > 0} it is also reachable on {@code 127.0.0.1:port} (loopback only) for other processes.
   */
  public static TemporalConnection embedded(int port) throws IOException {
    return embedded(port, new com.uber.m3.tally.NoopScope());
  }

  /** {@link #embedded(int)} reporting the SDK's client and worker metrics to {@code metrics} (see TemporalMetrics). */
  public static TemporalConnection embedded(int port, com.uber.m3.tally.Scope metrics) throws IOException {
    TestServer.InProcessTestServer server = TestServer.createServer(true);
    LoopbackFront front = null;
    try {
      String target = "in-process";
      if (port > 0) {
        front = new LoopbackFront("127.0.0.1", port, server.getChannel());
        target = "127.0.0.1:" + front.port();
      }
      WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(
          WorkflowServiceStubsOptions.newBuilder().setChannel(server.getChannel()).setMetricsScope(metrics)
              .validateAndBuildWithDefaults());
      OperatorServiceStubs operator = OperatorServiceStubs.newServiceStubs(
          OperatorServiceStubsOptions.newBuilder().setChannel(server.getChannel()).validateAndBuildWithDefaults());
      TemporalConnection c = new TemporalConnection(Mode.EMBEDDED, service, operator,
          WorkflowClientOptions.newBuilder().setNamespace(EMBEDDED_NAMESPACE).build(), target, null,
          "", server, front, null);
      // The test server cannot list attributes back (UNIMPLEMENTED); it accepts what was added.
      TemporalChecks.addSearchAttributes(operator, EMBEDDED_NAMESPACE);
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
   * Starts the Temporal CLI's dev server as a child process, connects to it and checks it like
   * any real server. The connection owns the server: {@link #close} stops it. A closed join's
   * history is kept {@link #DEV_RETENTION} (with a DB file, across restarts).
   */
  public static TemporalConnection devServer(TemporalDevServer.Settings settings, Duration startTimeout)
      throws IOException {
    return devServer(settings, startTimeout, new com.uber.m3.tally.NoopScope());
  }

  /** {@link #devServer(TemporalDevServer.Settings, Duration)} reporting the SDK's metrics to {@code metrics}. */
  public static TemporalConnection devServer(TemporalDevServer.Settings settings, Duration startTimeout,
                                             com.uber.m3.tally.Scope metrics) throws IOException {
    TemporalDevServer server = TemporalDevServer.start(settings, startTimeout);
    try {
      WorkflowServiceStubsOptions options = WorkflowServiceStubsOptions.newBuilder().setTarget(server.target())
          .setMetricsScope(metrics).build();
      TemporalConnection c = connect(Mode.CLI, options, settings.namespace(), server.uiUrl().orElse(null), server);
      TemporalChecks.extendRetention(c.service, c.namespace(), c.target, DEV_RETENTION);
      return c;
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  /**
   * Connects to the Temporal cluster the process environment describes.
   *
   * @param uiUrl the root of that cluster's Web UI, for links; null when unknown
   */
  public static TemporalConnection fromEnvironment(String uiUrl) throws IOException {
    return fromEnvironment(System.getenv(), uiUrl);
  }

  /** Connects to the Temporal cluster {@code env} describes (TEMPORAL_* variables, as temporal-envconfig reads them). */
  public static TemporalConnection fromEnvironment(Map<String, String> env, String uiUrl) throws IOException {
    return fromEnvironment(env, uiUrl, new com.uber.m3.tally.NoopScope());
  }

  /** {@link #fromEnvironment(Map, String)} reporting the SDK's metrics to {@code metrics}. */
  public static TemporalConnection fromEnvironment(Map<String, String> env, String uiUrl,
                                                   com.uber.m3.tally.Scope metrics) throws IOException {
    ClientConfigProfile profile;
    try {
      profile = ClientConfigProfile.load(LoadClientConfigProfileOptions.newBuilder().setEnvOverrides(env).build());
    } catch (IOException | RuntimeException e) {
      throw new IOException("cannot read the Temporal client configuration (TEMPORAL_* variables, TEMPORAL_CONFIG_FILE):"
          + " " + e.getMessage(), e);
    }
    WorkflowServiceStubsOptions options = profile.toWorkflowServiceStubsOptions();
    if (profile.getTls() != null && Boolean.TRUE.equals(profile.getTls().isDisabled())) {
      // An API key turns TLS on by default; TEMPORAL_TLS=false must still win (a plaintext
      // proxy in front of a server that checks the key).
      options = WorkflowServiceStubsOptions.newBuilder(options).setEnableHttps(false).build();
    }
    options = WorkflowServiceStubsOptions.newBuilder(options).setMetricsScope(metrics).build();
    String namespace = profile.getNamespace() == null || profile.getNamespace().isEmpty()
        ? "default" : profile.getNamespace();
    return connect(Mode.ENV, options, namespace, uiUrl, null);
  }

  /** Whether the environment names a Temporal cluster ({@code TEMPORAL_ADDRESS} is set). */
  public static boolean environmentNamesCluster(Map<String, String> env) {
    String address = env.get("TEMPORAL_ADDRESS");
    return address != null && !address.isBlank();
  }

  private static TemporalConnection connect(Mode mode, WorkflowServiceStubsOptions options, String namespace,
                                            String uiUrl, TemporalDevServer owned) throws IOException {
    WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(options);
    // From the same options, so operator calls carry the API key, TLS and TEMPORAL_GRPC_META_*
    // metadata of the workflow client (on the raw channel they would go out without them).
    OperatorServiceStubs operator = OperatorServiceStubs.newServiceStubs(
        OperatorServiceStubsOptions.newBuilder(options).validateAndBuildWithDefaults());
    String target = options.getTarget();
    try {
      TemporalChecks.describeNamespace(service, namespace, target);
      String version = TemporalChecks.checkServerVersion(service, target);
      TemporalConnection c = new TemporalConnection(mode, service, operator,
          WorkflowClientOptions.newBuilder().setNamespace(namespace).build(), target, uiUrl, version, null, null, owned);
      TemporalChecks.ensureSearchAttributes(operator, namespace, target, version.isEmpty());
      return c;
    } catch (IOException | RuntimeException e) {
      operator.shutdownNow();
      service.shutdownNow();
      throw e;
    }
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkflowServiceStubs service() {
    return service;
  }

  public Mode mode() {
    return mode;
  }

  /** Where other processes reach this Temporal ("in-process" for an embedded server without port). */
  public String target() {
    return target;
  }

  public String namespace() {
    return client.getOptions().getNamespace();
  }

  /** The root of the Web UI of this Temporal, when there is one (and it is known). */
  public Optional<String> uiUrl() {
    return Optional.ofNullable(uiUrl);
  }

  /** The server's version as it reports it: empty for the Java test server, "unknown" when it could not be read. */
  public String serverVersion() {
    return serverVersion;
  }

  /**
   * Whether this is the Java in-memory test server (embedded here, or another process's reached
   * over loopback): it lists no workflows, and a worker that may stop while joins run must turn
   * sticky execution off on it (it never times a sticky queue out).
   */
  public boolean isTestServer() {
    return mode == Mode.EMBEDDED || serverVersion.isEmpty();
  }

  /** The dev server this connection started and owns, if any. */
  public Optional<TemporalDevServer> devServer() {
    return Optional.ofNullable(devServer);
  }

  public boolean isEmbedded() {
    return mode == Mode.EMBEDDED;
  }

  /** Whether the server answers ListWorkflowExecutions (the test server does not). */
  public boolean listsWorkflows() {
    return !isTestServer();
  }

  /** Whether closed joins outlive the server process (a dev server with a DB file, or a real cluster). */
  public boolean isDurable() {
    return switch (mode) {
      case EMBEDDED -> false;
      case CLI -> devServer != null && devServer.settings().dbFile() != null;
      case ENV -> true;
    };
  }

  /**
   * One line for a terminal: which Temporal this is, where, and what it can and cannot do.
   */
  public String describe() {
    return switch (mode) {
      case EMBEDDED -> "embedded (in-memory test server in this process" + (target.equals("in-process") ? ""
          : ", loopback " + target) + "; not durable, no Web UI, no workflow listing)";
      case CLI -> "cli (Temporal dev server " + serverVersion + " on " + target + ", namespace " + namespace()
          + (uiUrl == null ? ", no Web UI" : ", Web UI " + uiUrl)
          + (devServer != null && devServer.settings().dbFile() != null
              ? ", history in " + devServer.settings().dbFile() : ", history in memory") + ")";
      case ENV -> "env (Temporal " + serverVersion + " at " + target + ", namespace " + namespace()
          + (uiUrl == null ? "" : ", Web UI " + uiUrl) + ")";
    };
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
    if (devServer != null) {
      devServer.close();
    }
  }
}
