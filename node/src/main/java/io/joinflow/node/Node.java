package io.joinflow.node;

import io.joinflow.proto.HostPort;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.joinflow.node.admin.NodeAdminService;
import io.joinflow.node.admin.StatusMapping;
import io.joinflow.node.catalog.Catalog;
import io.joinflow.node.membership.MembershipOps;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.DataStateMachine;
import io.joinflow.node.raft.MetadataApplier;
import io.joinflow.node.raft.MetadataStateMachine;
import io.joinflow.node.raft.RaftClients;
import io.joinflow.proto.v1.Bootstrap;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.TopologyUpdate;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster node: one Ratis server hosting group 0 and the data groups it is a member of, the
 * RocksDB catalog, and the NodeAdmin gRPC service. Start with {@link #start(NodeConfig)}.
 */
public final class Node implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  /** The wire version this node speaks (JoinRequest.wire_version). */
  public static final int WIRE_VERSION = 1;
  /** Threads answering NodeAdmin calls (see startGrpc). */
  private static final int GRPC_THREADS = 64;

  private final NodeConfig config;
  private final Catalog catalog;
  private final RaftClients clients;
  private final MembershipOps membership;
  private final RaftPeer self;
  private volatile Catalog.Identity identity;
  private volatile MetadataStateMachine metadataMachine;
  private RaftServer raftServer;
  private Server grpcServer;
  private ExecutorService grpcExecutor;
  private HealthStatusManager health;
  /** See every NodeAdmin, health and reflection call (metrics). */
  private final List<io.grpc.ServerInterceptor> interceptors;

  private Node(NodeConfig config, Catalog catalog, Catalog.Identity identity,
               List<io.grpc.ServerInterceptor> interceptors) {
    this.interceptors = List.copyOf(interceptors);
    this.config = config;
    this.catalog = catalog;
    this.identity = identity;
    this.clients = new RaftClients(config.raft());
    this.membership = new MembershipOps(clients, Duration.ofSeconds(30));
    this.self = peer(config.nodeId(), config.raftListen().toString());
  }

  /**
   * Opens the data dir, starts Ratis and NodeAdmin, and bootstraps a cluster when asked on an
   * empty data dir. A restart on the same data dir reopens the same cluster.
   */
  public static Node start(NodeConfig config) throws NodeStartException {
    return start(config, List.of());
  }

  /**
   * {@link #start(NodeConfig)} with these interceptors on the node's gRPC server (e.g. the
   * per-method metrics of {@code io.joinflow.metrics.GrpcServerMetrics}).
   */
  public static Node start(NodeConfig config, List<io.grpc.ServerInterceptor> interceptors)
      throws NodeStartException {
    Path dir = config.dataDir();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new NodeStartException("cannot create data dir " + dir + " (" + e.getMessage()
          + "); pass a --data-dir that can be created", e);
    }
    if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
      throw new NodeStartException("data dir " + dir + " is not a writable directory; pass a writable --data-dir");
    }
    // Ratis ends the JVM when it cannot bind its port, and NodeAdmin binds only after the
    // cluster exists: check both ports first so a clash changes nothing and says so.
    checkBindable("--listen", config.listen());
    checkBindable("--raft-listen", config.raftListen());
    Catalog catalog;
    try {
      catalog = Catalog.open(dir.resolve("catalog"));
    } catch (IOException e) {
      throw new NodeStartException("cannot open the catalog in " + dir + ": " + e.getMessage()
          + "; is another node running on this data dir?", e);
    }
    Node node = null;
    try {
      Catalog.Identity id = catalog.identity().orElse(null);
      if (id != null && id.nodeId() != config.nodeId()) {
        throw new NodeStartException("data dir " + dir + " belongs to node " + id.nodeId()
            + ", not " + config.nodeId() + "; start it with --node-id " + id.nodeId() + " or use an empty data dir");
      }
      if (config.bootstrap() && id != null && id.clusterId() != 0 && !id.bootstrappedHere()) {
        throw new NodeStartException("data dir " + dir + " holds node " + id.nodeId() + " of cluster "
            + Long.toUnsignedString(id.clusterId()) + ", which it joined; --bootstrap cannot create"
            + " a new cluster there: start it without --bootstrap, or use an empty data dir");
      }
      if (id == null) {
        id = new Catalog.Identity(config.nodeId(), UUID.randomUUID().toString(), 0, 0, false);
        catalog.writeIdentity(id);
      }
      node = new Node(config, catalog, id, interceptors);
      node.startRaft();
      if (config.bootstrap() || node.identity.bootstrappedHere()) {
        node.bootstrap();
      }
      node.startGrpc();
      LOG.info("node {}: serving NodeAdmin on {} and Ratis on {} (cluster {})", config.nodeId(),
          config.listen(), config.raftListen(), Long.toUnsignedString(node.identity.clusterId()));
      return node;
    } catch (NodeStartException e) {
      closeQuietly(node, catalog);
      throw e;
    } catch (IOException | RuntimeException e) {
      closeQuietly(node, catalog);
      throw new NodeStartException("node " + config.nodeId() + " failed to start: " + e.getMessage(), e);
    }
  }

  private static void checkBindable(String option, HostPort address) throws NodeStartException {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.bind(new InetSocketAddress(address.host(), address.port()));
    } catch (IOException e) {
      throw new NodeStartException("cannot listen on " + address + " (" + option + "): " + e.getMessage()
          + "; choose a free port or stop what uses it");
    }
  }

  private static void closeQuietly(Node node, Catalog catalog) {
    if (node != null) {
      node.close();
    } else {
      catalog.close();
    }
  }

  private void startRaft() throws IOException {
    Path storage = config.dataDir().resolve("raft");
    Files.createDirectories(storage);
    raftServer = RaftServer.newBuilder()
        .setServerId(self.getId())
        .setProperties(config.raft().serverProperties(storage, config.raftListen().host(), config.raftListen().port()))
        .setOption(RaftStorage.StartupOption.RECOVER)
        .setStateMachineRegistry(gid -> {
          if (ClusterIds.groupNumber(gid) == ClusterIds.METADATA_GROUP) {
            MetadataStateMachine sm = new MetadataStateMachine(catalog, this::onMetadataChange);
            metadataMachine = sm;
            return sm;
          }
          return new DataStateMachine(catalog);
        })
        .build();
    raftServer.start();
  }

  /** Creates (once) or reopens the cluster this node bootstrapped. */
  private void bootstrap() throws IOException, NodeStartException {
    Catalog.Identity id = identity;
    if (id.clusterId() == 0) {
      long clusterId = 0;
      SecureRandom random = new SecureRandom();
      while (clusterId == 0) {
        clusterId = random.nextLong() & Long.MAX_VALUE;
      }
      id = id.withCluster(clusterId, config.dataGroups(), true);
      catalog.writeIdentity(id);
      identity = id;
      LOG.info("node {}: bootstrapping cluster {} with {} data groups", config.nodeId(),
          Long.toUnsignedString(clusterId), config.dataGroups());
    } else if (config.bootstrap() && config.dataGroups() != id.dataGroups()) {
      LOG.warn("node {}: reopening cluster {} with its {} data groups; --groups {} is ignored",
          config.nodeId(), Long.toUnsignedString(id.clusterId()), id.dataGroups(), config.dataGroups());
    }
    // Groups are created after the identity is durable; a crash in between re-creates the
    // missing ones here, and creating an existing one is a no-op.
    for (int g = 0; g <= id.dataGroups(); g++) {
      RaftGroupId gid = ClusterIds.groupId(id.clusterId(), g);
      if (!hostsGroup(gid) && routeOrNull(g) == null) {
        membership.createGroup(gid, self, List.of(self));
      }
    }
    if (localMetadata().getClusterId() == 0) {
      NodeRecord seed = selfRecord(NodeState.ACTIVE);
      MetadataResult r = proposeUntilLeader(MetadataCommand.newBuilder().setBootstrap(Bootstrap.newBuilder()
          .setClusterId(id.clusterId()).setDataGroups(id.dataGroups()).setSeed(seed)).build());
      if (r.getCode() != 0) {
        throw new NodeStartException("bootstrap was refused by group 0: " + r.getMessage());
      }
    }
  }

  private GroupRoute routeOrNull(int g) {
    return MetadataApplier.findRoute(localMetadata(), g);
  }

  private boolean hostsGroup(RaftGroupId gid) {
    for (RaftGroupId g : raftServer.getGroupIds()) {
      if (g.equals(gid)) {
        return true;
      }
    }
    return false;
  }

  private MetadataResult proposeUntilLeader(MetadataCommand command) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return propose(command);
      } catch (StatusException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline) {
          throw new IOException(e.getStatus().getDescription(), e);
        }
      }
    }
  }

  private NodeRecord selfRecord(NodeState state) {
    return NodeRecord.newBuilder().setNodeId(config.nodeId()).setAddr(config.listen().toString())
        .setRaftAddr(config.raftListen().toString()).setState(state)
        .setIncarnation(identity.incarnation()).setWireVersion(WIRE_VERSION).build();
  }

  private void startGrpc() throws IOException {
    health = new HealthStatusManager();
    // Calls block: a membership change waits its turn behind the group's running change for up
    // to 30 s, and changes merge only while they wait together. So enough threads that the
    // additions of many simultaneous joins can wait at once and reads still get through;
    // idle threads end.
    ThreadPoolExecutor executor = new ThreadPoolExecutor(GRPC_THREADS, GRPC_THREADS, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "nodeadmin-" + config.nodeId());
          t.setDaemon(true);
          return t;
        });
    executor.allowCoreThreadTimeOut(true);
    grpcExecutor = executor;
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(config.listen().host(), config.listen().port()))
        .executor(grpcExecutor)
        .addService(new NodeAdminService(this))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance());
    interceptors.forEach(builder::intercept);
    grpcServer = builder.build();
    try {
      grpcServer.start();
    } catch (IOException e) {
      throw new IOException("cannot listen on " + config.listen() + ": " + e.getMessage(), e);
    }
  }

  private void onMetadataChange(MetadataState state) {
    Catalog.Identity id = identity;
    if (id.clusterId() == 0 && state.getClusterId() != 0) {
      // A node that became a member of group 0 learns its cluster here.
      Catalog.Identity joined = id.withCluster(state.getClusterId(), state.getDataGroups(), false);
      catalog.writeIdentity(joined);
      identity = joined;
    }
  }

  // ---- what NodeAdmin and tests use ----

  public NodeConfig config() {
    return config;
  }

  public long nodeId() {
    return config.nodeId();
  }

  public Catalog.Identity identity() {
    return identity;
  }

  public Catalog catalog() {
    return catalog;
  }

  public MembershipOps membership() {
    return membership;
  }

  public RaftServer raftServer() {
    return raftServer;
  }

  /** The port NodeAdmin listens on. */
  public int adminPort() {
    return grpcServer.getPort();
  }

  /**
   * Group 0 as this node knows it without asking anyone: its own replica if it hosts group 0,
   * else the newest pushed topology.
   */
  public MetadataState localMetadata() {
    MetadataStateMachine sm = metadataMachine;
    if (sm != null && sm.state().getClusterId() != 0 && hostsGroup(metadataGroupId())) {
      return sm.state();
    }
    return catalog.topologyUpdate().map(TopologyUpdate::getState)
        .orElse(sm == null ? MetadataState.getDefaultInstance() : sm.state());
  }

  public RaftGroupId groupId(int group) {
    return ClusterIds.groupId(identity.clusterId(), group);
  }

  private RaftGroupId metadataGroupId() {
    return groupId(ClusterIds.METADATA_GROUP);
  }

  /** Data groups hosted by this node (group numbers), sorted. */
  public List<Integer> hostedGroups() {
    List<Integer> out = new ArrayList<>();
    for (RaftGroupId g : raftServer.getGroupIds()) {
      out.add(ClusterIds.groupNumber(g));
    }
    out.sort(null);
    return out;
  }

  /** This node's division of a group, if it hosts one. */
  public Optional<RaftServer.Division> division(int group) {
    if (identity.clusterId() == 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(raftServer.getDivision(groupId(group)));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  public static RaftPeer peer(long nodeId, String raftAddr) {
    return RaftPeer.newBuilder().setId(ClusterIds.peerId(nodeId)).setAddress(raftAddr).build();
  }

  /** The Ratis peer of a node in the topology. */
  public RaftPeer peerOf(MetadataState state, long nodeId) throws StatusException {
    if (nodeId == config.nodeId()) {
      return self;
    }
    NodeRecord n = MetadataApplier.findNode(state, nodeId);
    if (n == null) {
      throw Status.NOT_FOUND.withDescription("node " + nodeId + " is not in the topology; register it first")
          .asException();
    }
    return peer(nodeId, n.getRaftAddr());
  }

  /**
   * Peers to ask about a group: this node's division's conf when it hosts one, plus the
   * members that routing names.
   */
  public Collection<RaftPeer> candidates(MetadataState state, int group) {
    Map<Object, RaftPeer> out = new LinkedHashMap<>();
    division(group).ifPresent(d -> d.getRaftConf().getAllPeers().forEach(p -> out.put(p.getId(), p)));
    GroupRoute route = MetadataApplier.findRoute(state, group);
    if (route != null) {
      List<Long> ids = new ArrayList<>(route.getVotersList());
      ids.addAll(route.getLearnersList());
      for (long id : ids) {
        NodeRecord n = MetadataApplier.findNode(state, id);
        if (n != null) {
          out.putIfAbsent(ClusterIds.peerId(id), peer(id, n.getRaftAddr()));
        }
      }
    }
    return out.values();
  }

  private Collection<RaftPeer> groupClientPeers(int group) throws StatusException {
    if (identity.clusterId() == 0) {
      throw Status.FAILED_PRECONDITION.withDescription("node " + config.nodeId()
          + " belongs to no cluster yet; ask a node of the cluster").asException();
    }
    Collection<RaftPeer> peers = candidates(localMetadata(), group);
    if (peers.isEmpty()) {
      throw Status.UNAVAILABLE.withDescription("node " + config.nodeId() + " knows no member of group "
          + group).asException();
    }
    return peers;
  }

  /** Appends a command to group 0 through its leader; a refused command is a status error. */
  public MetadataResult propose(MetadataCommand command) throws StatusException {
    try {
      RaftClientReply reply = clients.forGroup(metadataGroupId(), groupClientPeers(ClusterIds.METADATA_GROUP))
          .io().send(Message.valueOf(ByteString.copyFrom(command.toByteArray())));
      if (!reply.isSuccess()) {
        throw StatusMapping.toStatusException(reply.getException());
      }
      MetadataResult result = MetadataResult.parseFrom(reply.getMessage().getContent().toByteArray());
      if (result.getCode() != 0) {
        throw Status.fromCodeValue(result.getCode()).withDescription(result.getMessage()).asException();
      }
      return result;
    } catch (IOException e) {
      throw StatusMapping.toStatusException(e);
    }
  }

  /**
   * Group 0's state read through its leader: the read Ratis serves by default, a query of the
   * leader's state machine once the leader applied its own term's first entry. On the leader
   * itself that is the same read without the round trip (every membership call makes one).
   */
  public MetadataState readMetadata() throws StatusException {
    Optional<RaftServer.Division> local = division(ClusterIds.METADATA_GROUP);
    if (local.isPresent() && local.get().getInfo().isLeader() && local.get().getInfo().isLeaderReady()
        && local.get().getStateMachine() instanceof MetadataStateMachine sm) {
      return sm.state();
    }
    try {
      RaftClientReply reply = clients.forGroup(metadataGroupId(), groupClientPeers(ClusterIds.METADATA_GROUP))
          .io().sendReadOnly(Message.EMPTY);
      if (!reply.isSuccess()) {
        throw StatusMapping.toStatusException(reply.getException());
      }
      return MetadataState.parseFrom(reply.getMessage().getContent().toByteArray());
    } catch (IOException e) {
      throw StatusMapping.toStatusException(e);
    }
  }

  /** Sends an entry (write) or query (read) to a group's leader and returns the reply bytes. */
  public byte[] sendToGroup(int group, byte[] payload, boolean readOnly) throws StatusException {
    try {
      var api = clients.forGroup(groupId(group), groupClientPeers(group)).io();
      Message m = Message.valueOf(ByteString.copyFrom(payload));
      RaftClientReply reply = readOnly ? api.sendReadOnly(m) : api.send(m);
      if (!reply.isSuccess()) {
        throw StatusMapping.toStatusException(reply.getException());
      }
      return reply.getMessage().getContent().toByteArray();
    } catch (IOException e) {
      throw StatusMapping.toStatusException(e);
    }
  }

  /**
   * Accepts a pushed topology when it is newer than what this node holds (W9, W11): a
   * snapshot of another cluster is refused; an older or equal version is acknowledged and
   * ignored.
   *
   * @return the version held after the update and whether it was applied
   */
  public synchronized TopologyAck applyTopologyUpdate(TopologyUpdate update) throws StatusException {
    Catalog.Identity id = identity;
    if (update.getClusterId() == 0 || update.getState().getClusterId() != update.getClusterId()) {
      throw Status.INVALID_ARGUMENT.withDescription("topology update needs a cluster_id matching its state")
          .asException();
    }
    if (id.clusterId() != 0 && id.clusterId() != update.getClusterId()) {
      throw Status.FAILED_PRECONDITION.withDescription("node " + config.nodeId() + " belongs to cluster "
          + Long.toUnsignedString(id.clusterId()) + ", not " + Long.toUnsignedString(update.getClusterId()))
          .asException();
    }
    long held = catalog.topologyUpdate().map(TopologyUpdate::getVersion).orElse(0L);
    if (update.getVersion() <= held) {
      return new TopologyAck(held, false);
    }
    Catalog.Identity next = id.clusterId() != 0 ? id
        : id.withCluster(update.getClusterId(), update.getState().getDataGroups(), false);
    catalog.writeTopologyUpdate(update, next);
    identity = next;
    return new TopologyAck(update.getVersion(), true);
  }

  /** The outcome of a topology update. */
  public record TopologyAck(long version, boolean applied) {}

  /**
   * Stops serving and closes Ratis and the catalog. Ratis' close is slow (seconds): use
   * {@link #closeAsync()} where many nodes stop at once.
   */
  @Override
  public void close() {
    if (health != null) {
      health.enterTerminalState();
    }
    if (grpcServer != null) {
      grpcServer.shutdownNow();
      try {
        grpcServer.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (grpcExecutor != null) {
      grpcExecutor.shutdownNow();
    }
    clients.close();
    if (raftServer != null) {
      try {
        raftServer.close();
      } catch (IOException e) {
        LOG.warn("node {}: closing Ratis failed", config.nodeId(), e);
      }
    }
    catalog.close();
  }

  /** Closes this node on a background thread. */
  public CompletableFuture<Void> closeAsync() {
    return CompletableFuture.runAsync(this::close, r -> {
      Thread t = new Thread(r, "close-node-" + config.nodeId());
      t.setDaemon(true);
      t.start();
    });
  }

  public RaftPeer self() {
    return self;
  }
}
