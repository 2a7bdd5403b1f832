package io.joinflow.node;

import io.grpc.StatusException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.joinflow.node.admin.NodeAdminService;
import io.joinflow.node.admin.NodeAccess;
import io.joinflow.node.admin.NodeServer;
import io.joinflow.node.catalog.Catalog;
import io.joinflow.node.data.DataService;
import io.joinflow.node.group0.Group0Client;
import io.joinflow.node.local.GroupDivisions;
import io.joinflow.node.local.LocalIdentity;
import io.joinflow.node.local.PeerDirectory;
import io.joinflow.node.membership.LeaderMatchIndex;
import io.joinflow.node.membership.Membership;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.DataStateMachine;
import io.joinflow.node.raft.MetadataStateMachine;
import io.joinflow.node.raft.RaftClients;
import io.joinflow.node.raft.RaftTls;
import io.joinflow.node.topology.TopologyInbox;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.TopologyUpdate;
import io.joinflow.security.CallLimit;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster node, and the composition root of its parts: the RocksDB catalog and the node's
 * identity in it, one Ratis server hosting group 0 and the data groups it is a member of, the
 * peer directory, the group-0 client, the topology inbox, the membership parts, and the gRPC
 * server with NodeAdmin and Data. The node owns every thread its parts use and stops them in
 * {@link #close()}. Start with {@link #start(NodeConfig)}.
 */
public final class Node implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  /** The wire version this node speaks (JoinRequest.wire_version). */
  public static final int WIRE_VERSION = LocalIdentity.WIRE_VERSION;

  private final NodeConfig config;
  private final Catalog catalog;
  private final LocalIdentity identity;
  private final RaftClients clients;
  private final ExecutorService adminCalls;
  private final ExecutorService groupReads;
  private final ExecutorService hostingCalls;
  private final ScheduledExecutorService waits;
  private final Membership membership;
  private final TopologyInbox inbox;
  private volatile MetadataStateMachine metadataMachine;
  private volatile RaftServer raftServer;
  private GroupDivisions divisions;
  private PeerDirectory peers;
  private Group0Client group0;
  private NodeServer server;
  /** See every NodeAdmin, Data, health and reflection call (metrics). */
  private final List<io.grpc.ServerInterceptor> interceptors;

  private Node(NodeConfig config, Catalog catalog, Catalog.Identity identity,
               List<io.grpc.ServerInterceptor> interceptors) {
    this.interceptors = List.copyOf(interceptors);
    this.config = config;
    this.catalog = catalog;
    this.identity = new LocalIdentity(config.nodeId(), config.listen(), config.raftListen(), catalog, identity);
    NodeTunables t = config.tunables();
    String id = Long.toUnsignedString(config.nodeId());
    this.clients = new RaftClients(config.raft(), RaftTls.parameters(config.tls()));
    this.adminCalls = pool(t.adminThreads(), "nodeadmin-" + id);
    this.groupReads = pool(t.groupReadThreads(), "group-read-" + id);
    this.hostingCalls = pool(t.hostingThreads(), "hosting-" + id);
    this.waits = Executors.newScheduledThreadPool(t.waitThreads(), daemon("waits-" + id));
    this.membership = Membership.create(clients, new LeaderMatchIndex(() -> raftServer), t.membership(), waits,
        hostingCalls);
    // group0 exists once Ratis started, before any update can arrive.
    this.inbox = new TopologyInbox(this.identity, catalog, (cluster, claimed, atLeast) -> group0.readOf(cluster, claimed, atLeast));
  }

  /** A bounded pool whose idle threads end; calls beyond its threads queue. */
  private static ExecutorService pool(int threads, String name) {
    ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), daemon(name));
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
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
      if (config.bootstrap() || node.identity.get().bootstrappedHere()) {
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
    RaftPeer self = PeerDirectory.peer(config.nodeId(), config.raftListen().toString());
    raftServer = RaftServer.newBuilder()
        .setServerId(self.getId())
        .setProperties(config.raft().serverProperties(storage, config.raftListen().host(), config.raftListen().port()))
        .setParameters(RaftTls.parameters(config.tls()))
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
    divisions = new GroupDivisions(raftServer, identity);
    peers = new PeerDirectory(identity, divisions);
    group0 = new Group0Client(clients, divisions, peers, catalog, () -> metadataMachine);
  }

  /** Creates (once) or reopens the cluster this node bootstrapped. */
  private void bootstrap() throws IOException, NodeStartException {
    new ClusterBootstrap(config, identity, divisions, peers, membership, group0).run();
  }

  private void startGrpc() throws IOException {
    NodeTunables t = config.tunables();
    NodeAdminService admin = new NodeAdminService(identity, group0, divisions, peers, inbox, membership, groupReads,
        t.transferTimeout(), t.maxProgressWait());
    DataService data = new DataService(identity, group0, divisions, peers, clients);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(config.listen().host(),
        config.listen().port())).executor(adminCalls)
        .maxInboundMessageSize(t.maxMessageBytes())
        .maxConcurrentCallsPerConnection(t.maxCallsPerConnection());
    interceptors.forEach(builder::intercept);
    builder.intercept(new CallLimit(t.maxCallsInFlight(), "node " + Long.toUnsignedString(config.nodeId())));
    if (config.secure()) {
      // Added last, so it runs first: an unauthorized call reaches no other interceptor.
      builder.sslContext(config.tls().serverContext()).intercept(NodeAccess.rules(config.tls().self().cluster()));
    } else {
      // The commands that run a node say so loudly on the terminal (joinflow node --insecure).
      LOG.info("node {}: plaintext: NodeAdmin, Data and Ratis serve anyone who reaches {} and {}",
          config.nodeId(), config.listen(), config.raftListen());
    }
    server = new NodeServer(builder, List.of(admin, data), t.reflection());
    try {
      server.start();
    } catch (IOException e) {
      throw new IOException("cannot listen on " + config.listen() + ": " + e.getMessage(), e);
    }
  }

  private void onMetadataChange(MetadataState state) {
    Catalog.Identity id = identity.get();
    if (id.clusterId() == 0 && state.getClusterId() != 0) {
      // A node that became a member of group 0 learns its cluster here.
      identity.update(id.withCluster(state.getClusterId(), state.getDataGroups(), false));
    }
  }

  // ---- what commands and tests use ----

  public NodeConfig config() {
    return config;
  }

  public long nodeId() {
    return config.nodeId();
  }

  public Catalog.Identity identity() {
    return identity.get();
  }

  public Catalog catalog() {
    return catalog;
  }

  public Membership membership() {
    return membership;
  }

  public RaftServer raftServer() {
    return raftServer;
  }

  /** The port NodeAdmin listens on. */
  public int adminPort() {
    return server.port();
  }

  /**
   * Group 0 as this node knows it without asking anyone: its own replica if it hosts group 0,
   * else the newest pushed topology.
   */
  public MetadataState localMetadata() {
    return group0.local();
  }

  public RaftGroupId groupId(int group) {
    return divisions.groupId(group);
  }

  /** Groups hosted by this node (group numbers), sorted. */
  public List<Integer> hostedGroups() {
    return divisions.hosted();
  }

  /** This node's division of a group, if it hosts one. */
  public Optional<RaftServer.Division> division(int group) {
    return divisions.division(group);
  }

  public static RaftPeer peer(long nodeId, String raftAddr) {
    return PeerDirectory.peer(nodeId, raftAddr);
  }

  /** The Ratis peer of a node in the topology. */
  public RaftPeer peerOf(MetadataState state, long nodeId) throws StatusException {
    return peers.peerOf(state, nodeId);
  }

  /** Peers to ask about a group (see {@link PeerDirectory#candidates}). */
  public Collection<RaftPeer> candidates(MetadataState state, int group) {
    return peers.candidates(state, group);
  }

  /** Appends a command to group 0 through its leader; a refused command is a status error. */
  public MetadataResult propose(MetadataCommand command) throws StatusException {
    return group0.propose(command);
  }

  /** Group 0's state read through its leader. */
  public MetadataState readMetadata() throws StatusException {
    return group0.read();
  }

  /** Accepts a pushed topology when it is newer than what this node holds (see {@link TopologyInbox}). */
  public TopologyInbox.Ack applyTopologyUpdate(TopologyUpdate update) throws StatusException {
    return inbox.apply(update);
  }

  public RaftPeer self() {
    return peers == null ? PeerDirectory.peer(config.nodeId(), config.raftListen().toString()) : peers.self();
  }

  /**
   * Stops serving and closes Ratis and the catalog. Ratis' close is slow (seconds): use
   * {@link #closeAsync()} where many nodes stop at once.
   */
  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    adminCalls.shutdownNow();
    groupReads.shutdownNow();
    hostingCalls.shutdownNow();
    waits.shutdownNow();
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

}
