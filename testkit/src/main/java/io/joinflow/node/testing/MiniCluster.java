package io.joinflow.node.testing;

import io.joinflow.proto.HostPort;
import io.grpc.ManagedChannel;

import io.joinflow.node.Node;
import io.joinflow.node.NodeConfig;
import io.joinflow.node.NodeStartException;
import io.joinflow.node.membership.Conf;
import io.joinflow.node.membership.MembershipException;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.RaftSettings;
import io.joinflow.security.CertsDir;
import io.joinflow.security.Channels;
import io.joinflow.security.Role;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeAdminGrpc;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.SetNodeState;
import io.joinflow.proto.v1.SetRouting;
import io.joinflow.proto.v1.UpsertNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N real nodes in one JVM on loopback ports with temp dirs: real Ratis, real RocksDB, real
 * NodeAdmin gRPC. Node 1 bootstraps; {@link #startVoters} makes nodes 2..N voters of every
 * group through {@link io.joinflow.node.membership.ConfChanges}, the same recipe production uses. Closing stops every
 * node asynchronously (Ratis close takes seconds), waits for all of them and deletes the base
 * directory, which the cluster owns.
 */
public final class MiniCluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MiniCluster.class);
  /** How long a freshly bootstrapped group may take to elect its leader. */
  private static final Duration LEADER_WAIT = Duration.ofSeconds(30);
  private static final long LEADER_POLL_MILLIS = 20;

  private final Path baseDir;
  private final int dataGroups;
  private final RaftSettings settings;
  private final Map<Long, Node> nodes = new TreeMap<>();
  private final Map<Long, HostPort[]> addresses = new ConcurrentHashMap<>();
  private final Map<Long, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Map<Long, ManagedChannel> dataChannels = new ConcurrentHashMap<>();
  private final List<CompletableFuture<Void>> closing = new ArrayList<>();
  private CertsDir certs;

  public MiniCluster(Path baseDir, int dataGroups, RaftSettings settings) {
    this.baseDir = baseDir;
    this.dataGroups = dataGroups;
    this.settings = settings;
  }

  /**
   * Makes this cluster secure before its first node starts: a throwaway CA in the base dir, a
   * node certificate per node, mutual TLS on every port; {@link #admin} calls as a worker and
   * {@link #data} as a client.
   */
  public MiniCluster secure() {
    if (!nodes.isEmpty()) {
      throw new IllegalStateException("secure() must come before the first node starts");
    }
    try {
      certs = new CertsDir(baseDir.resolve("certs"));
      certs.createCa("mini");
      for (Role r : List.of(Role.WORKER, Role.CLIENT, Role.OPERATOR, Role.GATEWAY)) {
        certs.issue(r, 0, List.of("127.0.0.1"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** The certificates of a {@link #secure} cluster. */
  public CertsDir certs() {
    if (certs == null) {
      throw new IllegalStateException("this cluster is not secure");
    }
    return certs;
  }

  /** A new channel to a node's NodeAdmin port with the certificate of {@code role} (the caller closes it). */
  public ManagedChannel connect(long id, Role role) {
    try {
      Channels transport = certs == null ? Channels.plaintext() : Channels.tls(certs.identity(role, 0));
      return transport.channel("127.0.0.1", node(id).adminPort());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Settings for tests: fast elections for few groups on 2 cores. */
  public static RaftSettings testSettings() {
    return RaftSettings.defaults().withElection(Duration.ofMillis(300), Duration.ofMillis(600));
  }

  /** Bootstraps node 1 and makes nodes 2..n voters of every group, registered ACTIVE. */
  public MiniCluster startVoters(int n) {
    try {
      startNode(1, true);
      for (long id = 2; id <= n; id++) {
        startNode(id, false);
        register(id, NodeState.LEARNER);
        addLearnerEverywhere(id);
        promoteEverywhere(id);
        setState(id, NodeState.ACTIVE);
      }
      publishRouting();
      return this;
    } catch (RuntimeException e) {
      // The caller never gets the cluster to close: nodes left running would keep their ports,
      // threads and JMX names for every later test in this JVM.
      close();
      throw e;
    }
  }

  /** Starts a node on its own data dir (first start allocates its ports). */
  public Node startNode(long id, boolean bootstrap) {
    HostPort[] addr = addresses.computeIfAbsent(id, k -> new HostPort[] {
        new HostPort("127.0.0.1", freePort()), new HostPort("127.0.0.1", freePort())});
    NodeConfig config = new NodeConfig(id, addr[0], addr[1], baseDir.resolve("node-" + id),
        bootstrap, dataGroups, settings);
    try {
      if (certs != null) {
        if (!java.nio.file.Files.exists(certs.certificate(Role.NODE, id))) {
          certs.issue(Role.NODE, id, List.of("127.0.0.1", "localhost"));
        }
        config = config.withTls(certs.identity(Role.NODE, id));
      }
      Node node = Node.start(config);
      synchronized (nodes) {
        nodes.put(id, node);
      }
      return node;
    } catch (NodeStartException e) {
      throw new IllegalStateException(e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops a node abruptly (no leadership hand-off) and waits until it is closed. */
  public void stopNode(long id) {
    Node node;
    synchronized (nodes) {
      node = nodes.remove(id);
    }
    closeChannels(id);
    if (node != null) {
      node.closeAsync().join();
    }
  }

  /** Stops a node in the background; the cluster's close waits for it. */
  public CompletableFuture<Void> stopNodeAsync(long id) {
    Node node;
    synchronized (nodes) {
      node = nodes.remove(id);
    }
    closeChannels(id);
    CompletableFuture<Void> f = node == null ? CompletableFuture.completedFuture(null) : node.closeAsync();
    synchronized (closing) {
      closing.add(f);
    }
    return f;
  }

  public Node node(long id) {
    synchronized (nodes) {
      Node n = nodes.get(id);
      if (n == null) {
        throw new IllegalArgumentException("node " + id + " is not running");
      }
      return n;
    }
  }

  public List<Node> running() {
    synchronized (nodes) {
      return new ArrayList<>(nodes.values());
    }
  }

  public Path dataDir(long id) {
    return baseDir.resolve("node-" + id);
  }

  public int dataGroups() {
    return dataGroups;
  }

  /** A blocking NodeAdmin stub of a running node. */
  public NodeAdminGrpc.NodeAdminBlockingStub admin(long id) {
    return NodeAdminGrpc.newBlockingStub(channel(id)).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  /** A blocking Data stub (Put, Get) of a running node. */
  public io.joinflow.proto.v1.DataGrpc.DataBlockingStub data(long id) {
    ManagedChannel ch = dataChannels.computeIfAbsent(id, k -> connect(id, Role.CLIENT));
    return io.joinflow.proto.v1.DataGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  private ManagedChannel channel(long id) {
    return channels.computeIfAbsent(id, k -> connect(id, Role.WORKER));
  }

  private void closeChannels(long id) {
    for (Map<Long, ManagedChannel> m : List.of(channels, dataChannels)) {
      ManagedChannel ch = m.remove(id);
      if (ch != null) {
        ch.shutdownNow();
      }
    }
  }

  /** Group 0 read through its leader, via any running node. */
  public MetadataState metadata() {
    try {
      return running().get(0).readMetadata();
    } catch (io.grpc.StatusException e) {
      throw new IllegalStateException(e.getStatus().toString(), e);
    }
  }

  public void register(long id, NodeState state) {
    Node n = node(id);
    propose(MetadataCommand.newBuilder().setUpsertNode(UpsertNode.newBuilder().setNode(NodeRecord.newBuilder()
        .setNodeId(id).setAddr(n.config().listen().toString()).setRaftAddr(n.config().raftListen().toString())
        .setIncarnation(n.identity().incarnation()).setState(state).setWireVersion(Node.WIRE_VERSION))).build());
  }

  public void setState(long id, NodeState state) {
    propose(MetadataCommand.newBuilder().setSetNodeState(SetNodeState.newBuilder().setNodeId(id).setState(state)).build());
  }

  public void propose(MetadataCommand command) {
    try {
      running().get(0).propose(command);
    } catch (io.grpc.StatusException e) {
      throw new IllegalStateException(e.getStatus().toString(), e);
    }
  }

  /** Every group number, 0..G. */
  public List<Integer> groups() {
    List<Integer> out = new ArrayList<>();
    for (int g = 0; g <= dataGroups; g++) {
      out.add(g);
    }
    return out;
  }

  public Conf conf(int group) {
    Node any = running().get(0);
    try {
      return any.membership().confs().readConf(any.groupId(group), any.candidates(metadata(), group));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void addLearnerEverywhere(long id) {
    Node any = node(1L == id ? 2 : 1);
    RaftPeer peer = node(id).self();
    for (int g : groups()) {
      try {
        any.membership().changes().addLearner(any.groupId(g), peer, any.candidates(metadata(), g));
        any.membership().watch().awaitCaughtUp(any.groupId(g), peer, any.candidates(metadata(), g), Duration.ofSeconds(30));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  public void promoteEverywhere(long id) {
    Node any = node(1L == id ? 2 : 1);
    for (int g : groups()) {
      try {
        any.membership().changes().promote(any.groupId(g), node(id).self().getId(), any.candidates(metadata(), g), 0);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * The group's conf once it has a leader: a group bootstrapped a moment ago may still be
   * electing one (up to its election timeout, longer on a busy machine).
   */
  private Conf confOnceLed(int group) {
    long deadline = System.nanoTime() + LEADER_WAIT.toNanos();
    while (true) {
      try {
        return conf(group);
      } catch (UncheckedIOException e) {
        if (!(e.getCause() instanceof MembershipException m && m.retryable()) || System.nanoTime() - deadline > 0) {
          throw e;
        }
      }
      try {
        Thread.sleep(LEADER_POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for a leader of group " + group, e);
      }
    }
  }

  /** Publishes every group's committed conf as group 0's routing. */
  public void publishRouting() {
    for (int g : groups()) {
      Conf c = confOnceLed(g);
      propose(MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder().setRoute(GroupRoute.newBuilder()
          .setGroupId(g).addAllVoters(c.voterIds()).addAllLearners(c.listenerIds())
          .setLeaderHint(ClusterIds.nodeId(c.leader().getId())))).build());
    }
  }

  /** The node whose division leads the group, or 0 when none does right now. */
  public long leaderOf(int group) {
    for (Node n : running()) {
      var d = n.division(group);
      if (d.isPresent() && d.get().getInfo().isLeader()) {
        return n.nodeId();
      }
    }
    return 0;
  }

  /** The running division of a group on a node. */
  public RaftServer.Division division(long id, int group) {
    return node(id).division(group).orElseThrow(() ->
        new IllegalStateException("node " + id + " hosts no division of group " + group));
  }

  /**
   * Writes what a failing test needs to see: the running nodes and, per group, its leader and
   * committed configuration. A group that cannot be read says why instead of failing the dump.
   */
  public void describeTo(StringBuilder out) {
    out.append("mini cluster in ").append(baseDir).append(", running nodes ")
        .append(running().stream().map(Node::nodeId).toList()).append('\n');
    if (running().isEmpty()) {
      return;
    }
    for (int g : groups()) {
      out.append("group ").append(g).append(": leader ").append(leaderOf(g));
      try {
        Conf c = conf(g);
        out.append(", voters ").append(c.voterIds()).append(", learners ").append(c.listenerIds());
      } catch (RuntimeException e) {
        out.append(", conf unreadable: ").append(e.getMessage());
      }
      out.append('\n');
    }
  }

  /** What {@link #describeTo} writes, as one string. */
  public String describe() {
    StringBuilder out = new StringBuilder();
    describeTo(out);
    return out.toString();
  }

  @Override
  public void close() {
    for (Map<Long, ManagedChannel> m : List.of(channels, dataChannels)) {
      m.values().forEach(ManagedChannel::shutdownNow);
      m.clear();
    }
    List<CompletableFuture<Void>> all;
    synchronized (nodes) {
      all = new ArrayList<>();
      for (Node n : nodes.values()) {
        all.add(n.closeAsync());
      }
      nodes.clear();
    }
    synchronized (closing) {
      all.addAll(closing);
    }
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("mini cluster did not close cleanly", e);
    }
    try (var paths = Files.walk(baseDir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("cannot delete {}", baseDir, e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A fresh temp directory for one test's cluster. */
  public static Path tempDir(String name) {
    try {
      return Files.createTempDirectory("joinflow-" + name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
