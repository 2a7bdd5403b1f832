package io.joinflow.cli;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.joinflow.activities.JoinActivitiesImpl;
import io.joinflow.activities.MembershipActivitiesImpl;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.gateway.JoinGateway;
import io.joinflow.gateway.JoinServiceImpl;
import io.joinflow.node.Node;
import io.joinflow.node.NodeConfig;
import io.joinflow.node.NodeStartException;
import io.joinflow.node.raft.RaftSettings;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.ChangeMembershipRequest;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.EvictNode;
import io.joinflow.proto.v1.GetRequest;
import io.joinflow.proto.v1.GetResponse;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.MembershipChange;
import io.joinflow.proto.v1.PutRequest;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.proto.v1.TransferLeadershipRequest;
import io.joinflow.security.Role;
import io.joinflow.worker.JoinWorker;
import io.joinflow.worker.TemporalConnection;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.PromoteOptions;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.filter.v1.WorkflowExecutionFilter;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A three-node cluster in this JVM whose every role can be stopped abruptly and started again:
 * embedded Temporal, a worker on its own Temporal connection (killed = connection cut, activity
 * threads abandoned, nothing reported), a gateway, and real nodes (Ratis, RocksDB, NodeAdmin)
 * on loopback. Nodes 2 and 3 join through the join workflow and are promoted, so every group
 * has three voters and survives one crash. Joining nodes get ids from 10 on, each once.
 *
 * <p>Ports: Temporal {@code base}, gateway {@code base+1}, node i {@code base+10i} (NodeAdmin)
 * and {@code base+10i+1} (Ratis). Every one of them but Temporal's runs mutual TLS with
 * certificates from a throwaway CA ({@link DevCerts}), as a dev cluster does: the crashes are
 * those of the deployment joinflow runs.
 */
final class CrashCluster implements AutoCloseable {
  static final int MEMBERS = 3;

  private final int dataGroups;
  private final int base;
  private final Path dir;
  private final JoinOptions joinOptions;
  private final Consumer<String> log;
  private final Map<Long, Node> nodes = new TreeMap<>();
  private final Map<String, String> acknowledged = new LinkedHashMap<>();
  private TemporalConnection temporal;
  private DevCerts certs;
  private NodeAdminPool pool;
  private NodeAdminPool gatewayPool;
  private WorkflowServiceStubs workerStubs;
  private JoinWorker worker;
  private JoinGateway gateway;
  private volatile StepTrigger trigger;

  private CrashCluster(int dataGroups, int base, Path dir, JoinOptions joinOptions, Consumer<String> log) {
    this.dataGroups = dataGroups;
    this.base = base;
    this.dir = dir;
    this.joinOptions = joinOptions;
    this.log = log;
  }

  static CrashCluster start(int dataGroups, JoinOptions joinOptions, Consumer<String> log) throws Exception {
    return start(dataGroups, joinOptions, 200, log);
  }

  /**
   * @param maxNodeId the highest node id the cluster will start; node i uses ports BASE+10i and
   *     BASE+10i+1, all checked free before the cluster starts
   */
  static CrashCluster start(int dataGroups, JoinOptions joinOptions, int maxNodeId, Consumer<String> log)
      throws Exception {
    CrashCluster c = new CrashCluster(dataGroups, Ports.freeBase(10 * maxNodeId + 10),
        Files.createTempDirectory("joinflow-crash"), joinOptions, log);
    try {
      c.startAll();
      return c;
    } catch (Exception e) {
      c.close();
      throw e;
    }
  }

  private void startAll() throws Exception {
    certs = DevCerts.open(dir.resolve("certs"));
    temporal = TemporalConnection.embedded(base);
    startNode(1, true);
    List<String> addresses = new ArrayList<>();
    for (long id = 1; id <= MEMBERS; id++) {
      addresses.add(adminAddress(id).toString());
    }
    pool = new NodeAdminPool(addresses, certs.channels(Role.WORKER));
    gatewayPool = new NodeAdminPool(addresses, certs.channels(Role.GATEWAY));
    startWorker();
    startGateway();
    for (long id = 2; id <= MEMBERS; id++) {
      Node n = startNode(id, false);
      var r = JoiningNode.join(n, List.of(gatewayAddress().toString()), Duration.ofMinutes(3), line -> { });
      if (r == null || !r.getSuccess()) {
        throw new IllegalStateException("node " + id + " did not join: " + (r == null ? "no answer" : r.getError()));
      }
    }
    awaitHealthy(Duration.ofSeconds(90));
    log.accept("cluster of " + MEMBERS + " voters, " + dataGroups + " data groups, ports from " + base);
  }

  // ---- roles ----

  void startWorker() {
    workerStubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget(temporal.target()).build());
    WorkflowClient client = WorkflowClient.newInstance(workerStubs, WorkflowClientOptions.newBuilder()
        .setNamespace(TemporalConnection.EMBEDDED_NAMESPACE).build());
    // Restartable: a killed worker must not strand its workflows on a sticky queue.
    worker = new JoinWorker(client, new JoinActivitiesImpl(pool), new MembershipActivitiesImpl(pool), true,
        List.of(new WorkerInterceptorBase() {
          @Override
          public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
            StepTrigger t = trigger;
            return t == null ? next : t.interceptActivity(next);
          }
        })).start();
  }

  /**
   * Kills the worker like a dead process: its Temporal connection goes first, so nothing an
   * activity still finishes is ever reported; the server times those attempts out.
   */
  void killWorker() {
    WorkflowServiceStubs stubs = workerStubs;
    JoinWorker w = worker;
    stubs.shutdownNow();
    CompletableFuture.runAsync(w::close);
  }

  void startGateway() throws Exception {
    gateway = JoinGateway.start(gatewayAddress(), new JoinServiceImpl(temporal.client(),
        new PoolClusterViews(gatewayPool), joinOptions, new PromoteOptions(0, 60_000, MEMBERS, 16)), List.of(),
        certs.channels(Role.GATEWAY));
  }

  void killGateway() {
    gateway.close();
  }

  Node startNode(long id, boolean bootstrap) throws NodeStartException {
    HostPort admin = adminAddress(id);
    NodeConfig config;
    try {
      config = new NodeConfig(id, admin, new HostPort("127.0.0.1", admin.port() + 1), dir.resolve("node-" + id),
          bootstrap, dataGroups, RaftSettings.defaults()).withTls(certs.node(id));
    } catch (java.io.IOException e) {
      throw new NodeStartException("node " + id + ": no certificate: " + e.getMessage(), e);
    }
    Node n = Node.start(config);
    nodes.put(id, n);
    return n;
  }

  /**
   * The cluster's certificates directory, holding node {@code id}'s certificate (issued now if
   * it has none), for a node that runs as a process of its own ({@code --certs-dir}).
   */
  Path certsDirWithNode(long id) throws java.io.IOException {
    certs.node(id);
    return certs.path();
  }

  /** Stops a node abruptly; the returned future completes when its ports and files are free. */
  CompletableFuture<Void> killNode(long id) {
    Node n = nodes.remove(id);
    return n == null ? CompletableFuture.completedFuture(null) : n.closeAsync();
  }

  Optional<Node> node(long id) {
    return Optional.ofNullable(nodes.get(id));
  }

  void deleteNodeDir(long id) {
    DevCluster.deleteRecursively(dir.resolve("node-" + id));
  }

  void setTrigger(StepTrigger t) {
    trigger = t;
  }

  // ---- cluster reads and writes ----

  NodeAdminPool pool() {
    return pool;
  }

  TemporalConnection temporal() {
    return temporal;
  }

  int dataGroups() {
    return dataGroups;
  }

  HostPort gatewayAddress() {
    return new HostPort("127.0.0.1", base + 1);
  }

  HostPort adminAddress(long id) {
    return new HostPort("127.0.0.1", base + 10 * (int) id);
  }

  ClusterView view() {
    return pool.clusterView();
  }

  /** Waits until every group has a leader and the voters 1..3 (a node that joined is a voter). */
  void awaitHealthy(Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        ClusterView v = view();
        last = v.getGroupsList().toString();
        if (v.getGroupsCount() == dataGroups + 1 && v.getGroupsList().stream().allMatch(g -> g.getLeader() != 0
            && g.getVotersList().containsAll(List.of(1L, 2L, 3L)) && g.getVotersCount() == MEMBERS)) {
          return;
        }
      } catch (StatusRuntimeException e) {
        last = e.getStatus().toString();
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("cluster not healthy within " + within + ": " + last);
  }

  long leaderOf(int group) {
    for (GroupView g : view().getGroupsList()) {
      if (g.getGroupId() == group) {
        return g.getLeader();
      }
    }
    return 0;
  }

  /** Moves the group's leadership off {@code from} (to whichever voter wins). */
  void moveLeadership(int group, long from) {
    pool.call("transfer leadership of group " + group, stub -> stub.transferLeadership(
        TransferLeadershipRequest.newBuilder().setGroupId(group).setAwayFrom(from).build()));
  }

  /** Writes a key through any node and remembers it as acknowledged. */
  void put(String key, String value) {
    PutRequest request = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
        .setValue(ByteString.copyFromUtf8(value)).build();
    data("put " + key, stub -> stub.put(request));
    acknowledged.put(key, value);
  }

  /** Keys acknowledged so far whose linearizable read is missing or differs, with what was read. */
  Map<String, String> lostWrites() {
    Map<String, String> lost = new TreeMap<>();
    for (Map.Entry<String, String> e : acknowledged.entrySet()) {
      GetRequest request = GetRequest.newBuilder().setKey(ByteString.copyFromUtf8(e.getKey())).build();
      GetResponse r = data("get " + e.getKey(), stub -> stub.get(request));
      String read = r.getFound() ? r.getValue().toString(StandardCharsets.UTF_8) : null;
      if (!e.getValue().equals(read)) {
        lost.put(e.getKey(), "wrote " + e.getValue() + ", read " + read);
      }
    }
    return lost;
  }

  /** Calls the Data service of the first live member that answers. */
  private <T> T data(String what, java.util.function.Function<io.joinflow.proto.v1.DataGrpc.DataBlockingStub, T> fn) {
    StatusRuntimeException last = null;
    for (Node n : List.copyOf(nodes.values())) {
      if (n.nodeId() > MEMBERS) {
        continue;
      }
      io.grpc.ManagedChannel ch = dataChannels.computeIfAbsent(n.nodeId(),
          id -> certs.channels(Role.CLIENT).channel("127.0.0.1", adminAddress(id).port()));
      try {
        return fn.apply(io.joinflow.proto.v1.DataGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS));
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE && e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED) {
          throw e;
        }
        last = e;
      }
    }
    throw last != null ? last : Status.UNAVAILABLE.withDescription(what + ": no member running").asRuntimeException();
  }

  private final Map<Long, io.grpc.ManagedChannel> dataChannels = new java.util.concurrent.ConcurrentHashMap<>();

  int acknowledgedWrites() {
    return acknowledged.size();
  }

  /** Executions (open and closed) ever started under this workflow id. */
  List<WorkflowExecution> runsOf(String workflowId) {
    WorkflowExecutionFilter filter = WorkflowExecutionFilter.newBuilder().setWorkflowId(workflowId).build();
    String ns = TemporalConnection.EMBEDDED_NAMESPACE;
    List<WorkflowExecution> runs = new ArrayList<>();
    var stub = temporal.service().blockingStub();
    stub.listOpenWorkflowExecutions(ListOpenWorkflowExecutionsRequest.newBuilder().setNamespace(ns)
        .setExecutionFilter(filter).setMaximumPageSize(100).build()).getExecutionsList()
        .forEach(i -> runs.add(i.getExecution()));
    stub.listClosedWorkflowExecutions(ListClosedWorkflowExecutionsRequest.newBuilder().setNamespace(ns)
        .setExecutionFilter(filter).setMaximumPageSize(100).build()).getExecutionsList()
        .forEach(i -> runs.add(i.getExecution()));
    return runs;
  }

  /**
   * Takes a joined (or half-joined) node out of the cluster again, straight through NodeAdmin:
   * out of every group's configuration, then out of the topology.
   */
  void remove(long nodeId) throws StatusException {
    ClusterView v = view();
    for (GroupView g : v.getGroupsList()) {
      if (g.getVotersList().contains(nodeId) || g.getLearnersList().contains(nodeId)) {
        ChangeMembershipRequest r = ChangeMembershipRequest.newBuilder().setGroupId(g.getGroupId())
            .setNodeId(nodeId).setChange(MembershipChange.REMOVE).build();
        pool.call("remove " + nodeId + " from group " + g.getGroupId(), Duration.ofSeconds(45),
            stub -> stub.changeMembership(r));
      }
    }
    if (v.getNodesList().stream().anyMatch(n -> n.getNodeId() == nodeId)) {
      pool.changeTopology(TopologyChange.newBuilder().setEvict(EvictNode.newBuilder().setNodeId(nodeId)).build());
    }
    ClusterView after = view();
    for (GroupView g : after.getGroupsList()) {
      if (g.getVotersList().contains(nodeId) || g.getLearnersList().contains(nodeId)) {
        throw Status.INTERNAL.withDescription("node " + nodeId + " still in group " + g.getGroupId()).asException();
      }
    }
  }

  @Override
  public void close() {
    if (gateway != null) {
      gateway.close();
    }
    if (worker != null) {
      worker.close();
    }
    if (workerStubs != null) {
      workerStubs.shutdownNow();
    }
    if (pool != null) {
      pool.close();
    }
    if (gatewayPool != null) {
      gatewayPool.close();
    }
    dataChannels.values().forEach(io.grpc.ManagedChannel::shutdownNow);
    List<CompletableFuture<Void>> closing = new ArrayList<>();
    for (Node n : nodes.values()) {
      closing.add(n.closeAsync());
    }
    try {
      CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // shutting down anyway
    }
    if (temporal != null) {
      temporal.close();
    }
    DevCluster.deleteRecursively(dir);
  }
}
