package io.joinflow.cli;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.joinflow.activities.JoinActivitiesImpl;
import io.joinflow.activities.MembershipActivitiesImpl;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.gateway.JoinGateway;
import io.joinflow.gateway.JoinServiceImpl;
import io.joinflow.gateway.JoinTokenPolicy;
import io.joinflow.node.Node;
import io.joinflow.node.NodeConfig;
import io.joinflow.node.NodeStartException;
import io.joinflow.node.raft.RaftSettings;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.CreateTokenRequest;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.security.Channels;
import io.joinflow.security.Role;
import io.joinflow.worker.JoinWorker;
import io.joinflow.worker.TemporalConnection;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.PromoteOptions;
import io.temporal.common.interceptors.WorkerInterceptor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything in one process: the embedded Temporal server, a seed node that bootstraps, a
 * worker, a gateway, and nodes 2..N joined through the same join workflow as any other node.
 * Each successful join starts the node's promotion, which goes on in the background.
 * Ports: Temporal {@code base}, gateway {@code base+1}, node i NodeAdmin {@code base+10i} and
 * Ratis {@code base+10i+1}.
 *
 * <p>Secure unless the settings say otherwise: a throwaway CA in {@code <data dir>/certs}
 * ({@link DevCerts}), and every node, the worker and the gateway on mutual TLS with their own
 * certificates, on every port (NodeAdmin, JoinService, Ratis). Only Temporal, on loopback, stays
 * plaintext.
 */
class DevCluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DevCluster.class);

  /** What to start. */
  record Settings(int nodes, int dataGroups, int portBase, Path dataDir, JoinOptions joinOptions,
                  RaftSettings raft, PromoteOptions promoteOptions, TemporalChoice temporal, boolean durableTemporal,
                  HostPort metrics, boolean secure, boolean tokensOptional) {
    Settings(int nodes, int dataGroups, int portBase, Path dataDir, JoinOptions joinOptions, RaftSettings raft,
             PromoteOptions promoteOptions) {
      this(nodes, dataGroups, portBase, dataDir, joinOptions, raft, promoteOptions, TemporalChoice.embedded(), true,
          null, true, false);
    }

    Settings(int nodes, int dataGroups, int portBase, Path dataDir, JoinOptions joinOptions, RaftSettings raft) {
      this(nodes, dataGroups, portBase, dataDir, joinOptions, raft, PromoteOptions.defaults());
    }

    Settings(int nodes, int dataGroups, int portBase, Path dataDir, JoinOptions joinOptions) {
      this(nodes, dataGroups, portBase, dataDir, joinOptions, RaftSettings.defaults());
    }

    /** These settings with other promotion tunables. */
    Settings withPromoteOptions(PromoteOptions options) {
      return new Settings(nodes, dataGroups, portBase, dataDir, joinOptions, raft, options, temporal, durableTemporal,
          metrics, secure, tokensOptional);
    }

    /**
     * These settings on another Temporal.
     *
     * @param durable whether a dev server keeps its history in the data dir (else in memory)
     */
    Settings withTemporal(TemporalChoice choice, boolean durable) {
      return new Settings(nodes, dataGroups, portBase, dataDir, joinOptions, raft, promoteOptions, choice, durable,
          metrics, secure, tokensOptional);
    }

    /**
     * These settings with metrics: the worker, the gateway and the Temporal SDK of this process
     * on {@code endpoint}, node i on its slot's {@code BASE+10i+2}.
     */
    Settings withMetrics(HostPort endpoint) {
      return new Settings(nodes, dataGroups, portBase, dataDir, joinOptions, raft, promoteOptions, temporal,
          durableTemporal, endpoint, secure, tokensOptional);
    }

    /** These settings with mutual TLS ({@code true}, the default) or plaintext on every joinflow port. */
    Settings withSecure(boolean on) {
      return new Settings(nodes, dataGroups, portBase, dataDir, joinOptions, raft, promoteOptions, temporal,
          durableTemporal, metrics, on, tokensOptional);
    }

    /**
     * These settings with join tokens optional on a secure cluster, as {@code gateway
     * --join-tokens optional}: for tests whose Joins are about other checks. Required (the
     * default) means {@link DevCluster#join} issues each node a token first, as an operator would.
     */
    Settings withJoinTokensOptional() {
      return new Settings(nodes, dataGroups, portBase, dataDir, joinOptions, raft, promoteOptions, temporal,
          durableTemporal, metrics, secure, true);
    }

    /** Whether the gateway requires a join token: on a secure cluster unless made optional. */
    boolean tokensRequired() {
      return secure && !tokensOptional;
    }

    /** Where a secure cluster keeps its CA and certificates. */
    Path certsDir() {
      return dataDir.resolve("certs");
    }
  }

  final Settings settings;
  final List<Node> nodes = new ArrayList<>();
  TemporalConnection temporal;
  private NodeAdminPool pool;
  /** The gateway's own connections to the nodes, with its own certificate. */
  private NodeAdminPool gatewayPool;
  /** Null when the cluster runs plaintext. */
  private DevCerts certs;
  JoinWorker worker;
  JoinGateway gateway;
  private PoolClusterViews views;
  private final WorkerInterceptor[] interceptors;
  /** The worker's, the gateway's and the Temporal SDK's metrics (off unless the settings name an endpoint). */
  MetricsEndpoint metrics = MetricsEndpoint.off();
  private final java.util.Map<Node, MetricsEndpoint> nodeMetrics = new java.util.concurrent.ConcurrentHashMap<>();

  DevCluster(Settings settings, WorkerInterceptor[] interceptors) {
    this.settings = settings;
    this.interceptors = interceptors;
  }

  static DevCluster start(Settings settings, Consumer<String> log) throws Exception {
    return start(settings, log, new WorkerInterceptor[0]);
  }

  /** Starts the cluster with these interceptors on its worker (e.g. a {@link StepStartHook}). */
  static DevCluster start(Settings settings, Consumer<String> log, WorkerInterceptor... interceptors)
      throws Exception {
    DevCluster c = new DevCluster(settings, interceptors);
    try {
      c.startAll(log);
      return c;
    } catch (Exception e) {
      c.close();
      throw e;
    }
  }

  void startAll(Consumer<String> log) throws Exception {
    if (settings.secure()) {
      certs = DevCerts.open(settings.certsDir());
      log.accept("mutual TLS on every port; the CA and the certificates are in " + certs.path());
    }
    if (settings.metrics() != null) {
      metrics = MetricsEndpoint.start(settings.metrics());
    }
    temporal = settings.temporal().open(settings.portBase(), settings.dataDir(), settings.durableTemporal(),
        metrics.temporalScope());
    log.accept("temporal: " + temporal.describe());
    if (settings.temporal().hint() != null) {
      log.accept("  " + settings.temporal().hint());
    }
    Node seed = startNode(1, true);
    log.accept("node 1 bootstrapped cluster " + Long.toUnsignedString(seed.identity().clusterId()) + " with "
        + settings.dataGroups() + " data groups");
    // Every dev node's address, not only the seed's: the worker and the gateway must outlive
    // any one node, the seed included.
    List<String> addresses = new ArrayList<>();
    for (long id = 1; id <= settings.nodes(); id++) {
      addresses.add(adminAddress(id).toString());
    }
    pool = new NodeAdminPool(addresses, channels(Role.WORKER));
    gatewayPool = new NodeAdminPool(addresses, channels(Role.GATEWAY));
    startWorker();
    views = new PoolClusterViews(gatewayPool);
    startGateway();
    log.accept("gateway on " + gatewayAddress());
    for (long id = 2; id <= settings.nodes(); id++) {
      Node node = startNode(id, false);
      long started = System.nanoTime();
      JoinResponse r = join(node, log);
      if (r == null) {
        // A dev cluster started again on its data dir: the node reopened its groups.
        log.accept("node " + id + " is a member already (restarted on its data dir)");
        continue;
      }
      if (!r.getSuccess()) {
        throw new IllegalStateException("node " + id + " did not join: " + r.getError());
      }
      log.accept("node " + id + " joined in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms"
          + (r.getUiUrl().isEmpty() ? "" : ": " + r.getUiUrl()));
    }
  }

  /** The NodeAdmin address of the node on ports slot {@code slot} (node i uses slot i). */
  private HostPort adminAddress(long slot) {
    return new HostPort("127.0.0.1", settings.portBase() + 10 * (int) slot);
  }

  HostPort gatewayAddress() {
    return new HostPort("127.0.0.1", settings.portBase() + 1);
  }

  String temporalTarget() {
    return temporal.target();
  }

  TemporalConnection temporal() {
    return temporal;
  }

  List<Node> nodes() {
    return List.copyOf(nodes);
  }

  /** Whether every joinflow port of this cluster runs mutual TLS. */
  boolean secure() {
    return certs != null;
  }

  /** The directory of the cluster's CA and certificates; null when it runs plaintext. */
  Path certsDir() {
    return certs == null ? null : certs.path();
  }

  /** {@code sha256:<hex>} of the cluster CA's public key; null when it runs plaintext. */
  String caHash() {
    return certs == null ? null : certs.caHash();
  }

  /**
   * How a process of {@code role} (worker, gateway, operator or client) talks to this cluster:
   * with its certificate from the cluster's CA, or plaintext when the cluster is.
   */
  Channels channels(Role role) {
    if (role == Role.NODE) {
      throw new IllegalArgumentException("a node's transport comes with its config; see nodeConfig");
    }
    return certs == null ? Channels.plaintext() : certs.channels(role);
  }

  /**
   * How node {@code id}'s process talks to this cluster, whether or not the node runs: with its
   * certificate (issued now if it has none), or plaintext when the cluster is.
   */
  Channels nodeChannels(long id) throws IOException {
    return certs == null ? Channels.plaintext() : Channels.tls(certs.node(id));
  }

  /** Starts node {@code id} on its own ports and data dir (empty unless it is the seed). */
  Node startNode(long id, boolean bootstrap) throws NodeStartException {
    return startNodeAt(id, (int) id, settings.dataDir().resolve("node-" + id), bootstrap);
  }

  /** Starts node {@code id} on the ports of {@code slot} with this data dir. */
  Node startNodeAt(long id, int slot, Path dataDir, boolean bootstrap) throws NodeStartException {
    NodeConfig config = nodeConfig(id, slot, dataDir, bootstrap);
    HostPort admin = config.listen();
    if (settings.metrics() == null) {
      Node node = Node.start(config);
      nodes.add(node);
      return node;
    }
    MetricsEndpoint m;
    try {
      m = MetricsEndpoint.start(new HostPort(settings.metrics().host(), admin.port() + 2));
    } catch (IOException e) {
      throw new NodeStartException("node " + Long.toUnsignedString(id) + ": " + e.getMessage(), e);
    }
    Node node;
    try {
      node = Node.start(config, m.grpcInterceptors());
    } catch (NodeStartException | RuntimeException e) {
      m.close();
      throw e;
    }
    m.registry().getPrometheusRegistry().register(new io.joinflow.node.metrics.GroupMetrics(node));
    nodeMetrics.put(node, m);
    nodes.add(node);
    return node;
  }

  /**
   * The config of node {@code id} on the ports of {@code slot}: with its certificate (issued now
   * if it has none) when the cluster is secure.
   */
  NodeConfig nodeConfig(long id, int slot, Path dataDir, boolean bootstrap) throws NodeStartException {
    HostPort admin = adminAddress(slot);
    // A development cluster: its ports answer gRPC reflection (grpcurl and friends).
    NodeConfig config = new NodeConfig(id, admin, new HostPort("127.0.0.1", admin.port() + 1),
        dataDir, bootstrap, settings.dataGroups(), settings.raft()).withReflection();
    if (certs == null) {
      return config;
    }
    try {
      return config.withTls(certs.node(id));
    } catch (IOException e) {
      throw new NodeStartException("node " + Long.toUnsignedString(id) + ": no certificate in " + certs.path() + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Joins a started node through this cluster's gateway; where the gateway requires a join
   * token, it first issues the node one as the operator, as {@code joinflow token create} does.
   */
  JoinResponse join(Node node, Consumer<String> log) throws InterruptedException, StatusException {
    boolean joins = node.identity().clusterId() == 0 || JoiningNode.joinUnfinished(node);
    String token = settings.tokensRequired() && joins ? createToken(node.nodeId()) : null;
    return JoiningNode.join(node, List.of(gatewayAddress().toString()),
        Duration.ofMillis(settings.joinOptions().deadlineMillis()).plusMinutes(3), log, token);
  }

  /**
   * A join token for node {@code nodeId}, issued through the gateway with the operator's
   * certificate. Retried while group 0 is unavailable (electing a leader after a restart), for
   * as long as a Join itself would be.
   */
  String createToken(long nodeId) throws StatusException, InterruptedException {
    ManagedChannel channel = channels(Role.OPERATOR).channel(gatewayAddress().toString());
    long giveUpAt = System.nanoTime() + JoiningNode.RETRY_FOR.toNanos();
    long backoffMillis = 100;
    try {
      while (true) {
        try {
          return JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
              .createToken(CreateTokenRequest.newBuilder().setNodeId(nodeId).build()).getToken();
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > giveUpAt) {
            throw e.getStatus().augmentDescription("issuing a join token for node " + Long.toUnsignedString(nodeId))
                .asException();
          }
          Thread.sleep(backoffMillis);
          backoffMillis = Math.min(2_000, backoffMillis * 2);
        }
      }
    } finally {
      channel.shutdownNow();
    }
  }

  void closeMetrics(Node node) {
    MetricsEndpoint m = nodeMetrics.remove(node);
    if (m != null) {
      m.close();
    }
  }

  /**
   * Where Prometheus scrapes this cluster: the process's endpoint (worker, gateway, Temporal
   * SDK) first, then each running node's; empty without metrics.
   */
  List<String> metricsUrls() {
    List<String> urls = new ArrayList<>();
    if (metrics.enabled()) {
      urls.add(metrics.url());
    }
    for (Node n : nodes) {
      MetricsEndpoint m = nodeMetrics.get(n);
      if (m != null) {
        urls.add(m.url());
      }
    }
    return urls;
  }

  /** The metrics URL of a running node, or empty. */
  String metricsUrl(Node node) {
    MetricsEndpoint m = nodeMetrics.get(node);
    return m == null ? "" : m.url();
  }

  /**
   * Stops a node abruptly, without waiting: the returned future completes when its ports and
   * data dir are free for {@link #restartNode}.
   */
  CompletableFuture<Void> killNode(Node node) {
    nodes.remove(node);
    closeMetrics(node);
    return node.closeAsync();
  }

  /** Starts a stopped node again on its data dir and ports. */
  Node restartNode(long id) throws NodeStartException {
    return startNode(id, false);
  }

  /**
   * Starts the worker, on the current Temporal server. It uses sticky execution, which the
   * embedded server never times out: stop it only while no workflow runs.
   */
  void startWorker() {
    List<WorkerInterceptor> all = new ArrayList<>(List.of(interceptors));
    all.addAll(metrics.workerInterceptors());
    worker = new JoinWorker(temporal.client(), new JoinActivitiesImpl(pool), new MembershipActivitiesImpl(pool),
        false, all).start();
  }

  /**
   * Starts the gateway on its port, on the current Temporal server. It first starts again the
   * joins group 0 records as pending whose workflow is gone.
   */
  void startGateway() throws IOException {
    // The dev CA's key is at hand: the gateway also signs certificates for nodes that Bootstrap.
    JoinTokenPolicy tokens = certs == null ? JoinTokenPolicy.optional()
        : new JoinTokenPolicy(settings.tokensRequired(), certs.ca());
    JoinServiceImpl service = new JoinServiceImpl(temporal.client(), views, settings.joinOptions(),
        settings.promoteOptions(), TemporalChoice.endpoint(temporal), tokens);
    if (metrics.enabled()) {
      service.joinsInFlight().bindTo(metrics.registry());
    }
    gateway = JoinGateway.startForDevelopment(gatewayAddress(), service, metrics.grpcInterceptors(),
        channels(Role.GATEWAY));
  }

  /** The cluster view through any live node. */
  ClusterView view() throws StatusException {
    return views.view();
  }

  @Override
  public void close() {
    if (gateway != null) {
      gateway.close();
    }
    if (worker != null) {
      worker.close();
    }
    if (pool != null) {
      pool.close();
    }
    if (gatewayPool != null) {
      gatewayPool.close();
    }
    NodeShutdown.stop(nodes);
    if (temporal != null) {
      temporal.close();
    }
    nodeMetrics.values().forEach(MetricsEndpoint::close);
    nodeMetrics.clear();
    metrics.close();
  }

  static void deleteRecursively(Path dir) {
    deleteRecursively(dir, null);
  }

  /** Deletes {@code dir} and everything in it but {@code keep} (null: everything). */
  static void deleteRecursively(Path dir, Path keep) {
    Path kept = keep == null ? null : keep.toAbsolutePath().normalize();
    try (var walk = java.nio.file.Files.walk(dir)) {
      // A directory holding the kept file is not empty, so it stays.
      walk.sorted(java.util.Comparator.reverseOrder())
          .filter(p -> !p.toAbsolutePath().normalize().equals(kept))
          .forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort for a temporary directory
    }
  }
}
