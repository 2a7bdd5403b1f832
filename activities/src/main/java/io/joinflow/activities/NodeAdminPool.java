package io.joinflow.activities;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.ChangeTokenRequest;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.GetGroupRequest;
import io.joinflow.proto.v1.GetMetadataRequest;
import io.joinflow.proto.v1.GetTokensRequest;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeAdminGrpc.NodeAdminBlockingStub;
import io.joinflow.proto.v1.NodeAdminGrpc;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.security.Channels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plaintext gRPC channels to the NodeAdmin service of the cluster's nodes, and to any other
 * address asked for (a joining node). Any cluster node answers any NodeAdmin call, so
 * {@link #call} simply moves on to the next node when one cannot be reached; it starts with
 * the node that answered last, which keeps a healthy worker on one connection.
 *
 * <p>Calls throw {@link StatusRuntimeException}; {@link NodeAdminFailures} turns those into
 * Temporal failures. Thread-safe; one pool serves every activity of a worker.
 */
public final class NodeAdminPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeAdminPool.class);
  /** Deadline of one call when none is given. */
  public static final Duration DEFAULT_CALL_DEADLINE = Duration.ofSeconds(10);

  private final List<String> addresses;
  private final Duration callDeadline;
  private final Channels transport;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final AtomicInteger preferred = new AtomicInteger();
  private volatile boolean closed;

  /** A pool over the cluster nodes at {@code addresses} (host:port), with the default deadline. */
  public NodeAdminPool(List<String> addresses) {
    this(addresses, DEFAULT_CALL_DEADLINE);
  }

  /**
   * @param addresses NodeAdmin addresses (host:port) of cluster nodes; at least one
   * @param callDeadline deadline of one call on one node, unless a call names its own
   * @throws IllegalArgumentException when the list is empty or an address is malformed
   */
  public NodeAdminPool(List<String> addresses, Duration callDeadline) {
    this(addresses, callDeadline, Channels.plaintext());
  }

  /** A pool whose calls go over {@code transport} (mutual TLS with the worker's or gateway's certificate). */
  public NodeAdminPool(List<String> addresses, Channels transport) {
    this(addresses, DEFAULT_CALL_DEADLINE, transport);
  }

  public NodeAdminPool(List<String> addresses, Duration callDeadline, Channels transport) {
    this.transport = transport;
    if (addresses == null || addresses.isEmpty()) {
      throw new IllegalArgumentException("no cluster node addresses; give at least one host:port");
    }
    if (callDeadline.isNegative() || callDeadline.isZero()) {
      throw new IllegalArgumentException("call deadline must be positive, got " + callDeadline);
    }
    LinkedHashSet<String> normalized = new LinkedHashSet<>();
    for (String a : addresses) {
      normalized.add(HostPort.parse(a).toString());
    }
    this.addresses = List.copyOf(normalized);
    this.callDeadline = callDeadline;
  }

  /** The cluster node addresses, normalized, in the order they are tried. */
  public List<String> addresses() {
    return addresses;
  }

  public Duration callDeadline() {
    return callDeadline;
  }

  /** Calls any cluster node with the default deadline; see {@link #call(String, Duration, Function)}. */
  public <T> T call(String what, Function<NodeAdminBlockingStub, T> fn) {
    return call(what, callDeadline, fn);
  }

  /**
   * Calls the cluster, trying the nodes in turn from the one that answered last. A node that
   * cannot be reached (UNAVAILABLE raised by this side's transport) or does not answer within
   * {@code deadline} (DEADLINE_EXCEEDED) is skipped. Any status the node itself sent is the
   * cluster's answer and is thrown at once, UNAVAILABLE included ("no reachable leader for
   * group 3", "add learner did not complete within 30000 ms"): asking the next node would
   * only repeat that wait. In case the node that said so is the one cut off from the others,
   * the next call starts with the next node.
   *
   * @param what what the call does, for logs and the error description
   * @throws StatusRuntimeException the answer's status, or the last node's when none could be
   *     reached; the latter names every node tried
   */
  public <T> T call(String what, Duration deadline, Function<NodeAdminBlockingStub, T> fn) {
    int n = addresses.size();
    int start = preferred.get();
    StatusRuntimeException last = null;
    for (int i = 0; i < n; i++) {
      int index = (start + i) % n;
      String address = addresses.get(index);
      try {
        T result = fn.apply(stub(address, deadline));
        preferred.set(index);
        return result;
      } catch (StatusRuntimeException e) {
        if (!unreachable(e.getStatus())) {
          preferred.set(e.getStatus().getCode() == Status.Code.UNAVAILABLE ? (index + 1) % n : index);
          throw e;
        }
        last = e;
        if (i + 1 < n) {
          LOG.info("{} via {} failed ({}: {}); trying the next node", what, address,
              e.getStatus().getCode(), e.getStatus().getDescription());
        }
      }
    }
    Status s = last.getStatus();
    throw s.withDescription(what + ": no cluster node answered (tried " + String.join(", ", addresses) + "); last: "
        + (s.getDescription() == null ? s.getCode().name() : s.getDescription()))
        .withCause(last).asRuntimeException();
  }

  /** Calls the node at {@code address} with the default deadline. */
  public <T> T callAt(String address, String what, Function<NodeAdminBlockingStub, T> fn) {
    return callAt(address, what, callDeadline, fn);
  }

  /**
   * Calls the node at one address (a joining node, or a node a topology update is pushed to),
   * without moving on to others. Channels are cached by address.
   *
   * @throws IllegalArgumentException when the address is not host:port
   * @throws StatusRuntimeException what the call ended with
   */
  public <T> T callAt(String address, String what, Duration deadline, Function<NodeAdminBlockingStub, T> fn) {
    String normalized = HostPort.parse(address).toString();
    LOG.debug("{} at {}", what, normalized);
    return fn.apply(stub(normalized, deadline));
  }

  /**
   * True when the call did not reach the node or got no answer in time. A status the server
   * sent never carries a cause on this side; one raised by the local transport (connection
   * refused, reset, TLS) does.
   */
  static boolean unreachable(Status status) {
    return status.getCode() == Status.Code.DEADLINE_EXCEEDED
        || (status.getCode() == Status.Code.UNAVAILABLE && status.getCause() != null);
  }

  private NodeAdminBlockingStub stub(String address, Duration deadline) {
    if (closed) {
      throw Status.UNAVAILABLE.withDescription("the NodeAdmin pool is closed").asRuntimeException();
    }
    ManagedChannel channel = channels.computeIfAbsent(address, a -> {
      HostPort hp = HostPort.parse(a);
      return transport.channel(hp.host(), hp.port());
    });
    if (closed) {
      // close() ran while this channel was being created; it would never be shut down.
      channel.shutdownNow();
      throw Status.UNAVAILABLE.withDescription("the NodeAdmin pool is closed").asRuntimeException();
    }
    return NodeAdminGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Group 0 and every group's live state, through any reachable node. */
  public ClusterView clusterView() {
    return call("cluster view", stub -> stub.getClusterView(GetClusterViewRequest.getDefaultInstance()));
  }

  /** Group 0's state alone (no other group's leader is asked), through any reachable node. */
  public MetadataState metadata() {
    return call("metadata", stub -> stub.getMetadata(GetMetadataRequest.getDefaultInstance()));
  }

  /** One group's live state, through any reachable node; NOT_FOUND for a group the cluster lacks. */
  public GroupView group(int group) {
    GetGroupRequest request = GetGroupRequest.newBuilder().setGroupId(group).build();
    return call("group " + group, stub -> stub.getGroup(request));
  }

  /** A join's, promotion's or leave's group-0 change, checked and written by any reachable node. */
  public MetadataResult changeTopology(TopologyChange change) {
    return call("change the topology", stub -> stub.changeTopology(change));
  }

  /** The join tokens group 0 stores (with their hashes), through any reachable node. */
  public java.util.List<TokenRecord> tokens() {
    return call("join tokens", stub -> stub.getTokens(GetTokensRequest.getDefaultInstance()))
        .getTokensList();
  }

  /** Issues a join token or compare-and-sets its state, through any reachable node. */
  public MetadataResult changeToken(ChangeTokenRequest request) {
    return call("change a join token", stub -> stub.changeToken(request));
  }

  /** Closes every channel, waiting briefly for calls in flight. */
  @Override
  public void close() {
    closed = true;
    List<ManagedChannel> all = new ArrayList<>(channels.values());
    channels.clear();
    all.forEach(ManagedChannel::shutdown);
    for (ManagedChannel ch : all) {
      try {
        if (!ch.awaitTermination(2, TimeUnit.SECONDS)) {
          ch.shutdownNow();
        }
      } catch (InterruptedException e) {
        ch.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
