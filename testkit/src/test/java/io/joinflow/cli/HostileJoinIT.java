package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.node.Node;
import io.joinflow.node.membership.Conf;
import io.joinflow.node.membership.ConfChanges;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.CreateTokenRequest;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GetPromotionRequest;
import io.joinflow.proto.v1.GroupProgress;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.LeaveRequest;
import io.joinflow.proto.v1.LeaveResponse;
import io.joinflow.proto.v1.ListTokensRequest;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.TokenInfo;
import io.joinflow.proto.v1.TokenState;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.PromoteOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Hostile and broken joins through the real stack (embedded Temporal, worker, gateway, three
 * real nodes, two data groups): each one is answered with a status and a sentence saying what to
 * fix, and leaves nothing behind in group 0's topology, any group's configuration, or the
 * joining node's catalog and divisions. The cases share one cluster; each uses node ids of its
 * own. The address {@code no-port} and another address for a joined id are covered by
 * {@link JoinIT}, as is a joining node killed while its learners are being added; here it is
 * killed once it is a learner of some groups, deterministically.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileJoinIT {
  private static final int GROUPS = 2;
  private static final long DEADLINE_MS = 20_000;
  /** 2^64 - 1: the largest node id a JoinRequest can carry. */
  private static final long MAX_ID = -1L;
  private static final Consumer<String> QUIET = line -> { };

  private static FaultyDevCluster cluster;
  private static Path dir;
  private static GatewayCallers callers;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("joinflow-hostile-it");
    // Four voters at most: the node of the disk-loss case votes, later joiners stay learners.
    cluster = FaultyDevCluster.start(new DevCluster.Settings(3, GROUPS, Ports.freeBase(130), dir,
        new JoinOptions(DEADLINE_MS, 16)).withPromoteOptions(PromoteOptions.defaults().withMaxVoters(4))
            // Its Joins are about every other check; tokens are JoinTokenIT's and DevSecurityIT's.
            .withJoinTokensOptional(),
        line -> System.out.println("[dev] " + line));
    callers = new GatewayCallers(cluster);
  }

  @AfterAll
  static void stop() {
    if (callers != null) {
      callers.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (dir != null) {
      DevCluster.deleteRecursively(dir);
    }
  }

  /** The gateway as the operator. */
  private static JoinServiceGrpc.JoinServiceBlockingStub gateway() {
    return callers.asOperator();
  }

  /** The gateway as node {@code id}, with its certificate: the only caller it lets join node {@code id}. */
  private static JoinServiceGrpc.JoinServiceBlockingStub gateway(long id) {
    return callers.asNode(id);
  }

  private static JoinRequest request(long id, String addr) {
    return JoinRequest.newBuilder().setNodeId(id).setListenAddr(addr).setWireVersion(Node.WIRE_VERSION).build();
  }

  private static String addr(Node node) {
    return node.config().listen().toString();
  }

  /** The status a rejected Join ends with. */
  private static Status rejected(JoinRequest request) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> gateway(request.getNodeId()).join(request));
    assertThat(e).as("Join of node %s at '%s' must be refused", Long.toUnsignedString(request.getNodeId()),
        request.getListenAddr()).isNotNull();
    return e.getStatus();
  }

  private static void assertRejected(JoinRequest request, Status.Code code, String description) {
    Status s = rejected(request);
    assertThat(s.getCode()).as(s.getDescription()).isEqualTo(code);
    assertThat(s.getDescription()).isEqualTo(description);
  }

  /** Topology, routing, every group's live configuration and the join records, as one value. */
  private record Membership(long topologyVersion, List<NodeRecord> nodes, List<GroupRoute> routing,
                            List<String> confs, List<JoinRecord> joins) {
    static Membership of(ClusterView v) {
      List<String> confs = new ArrayList<>();
      for (GroupView g : v.getGroupsList()) {
        confs.add(g.getGroupId() + ": voters " + g.getVotersList().stream().sorted().toList() + " learners "
            + g.getLearnersList().stream().sorted().toList());
      }
      return new Membership(v.getTopologyVersion(), v.getNodesList(), v.getRoutingList(), confs, v.getJoinsList());
    }
  }

  private static Membership membership() throws Exception {
    ClusterView v = cluster.view();
    assertThat(v.getGroupsList()).as("every group answers with a leader")
        .allSatisfy(g -> assertThat(g.getLeader()).isNotZero());
    return Membership.of(v);
  }

  /** Nothing of a refused node in the joining node's catalog or Ratis server. */
  private static void assertUntouched(Node node) {
    assertThat(node.identity().clusterId()).as("cluster id in node %d's catalog", node.nodeId()).isZero();
    assertThat(node.catalog().topologyUpdate()).as("topology in node %d's catalog", node.nodeId()).isEmpty();
    assertThat(node.hostedGroups()).as("divisions on node %d", node.nodeId()).isEmpty();
  }

  private static NodeRecord nodeRecord(ClusterView view, long id) {
    return view.getNodesList().stream().filter(n -> n.getNodeId() == id).findFirst().orElse(null);
  }

  private static List<Long> members(GroupView g) {
    List<Long> ids = new ArrayList<>(g.getVotersList());
    ids.addAll(g.getLearnersList());
    return ids;
  }

  /** Waits until the node's promotion ended, so it changes nothing under the next case. */
  private static void awaitPromotionDone(long id) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
        gateway().getPromotion(GetPromotionRequest.newBuilder().setNodeId(id).build()).getDone());
  }

  private static void assertJoinedEverywhere(long id) throws Exception {
    ClusterView view = cluster.view();
    for (GroupView g : view.getGroupsList()) {
      assertThat(members(g)).as("members of group %d", g.getGroupId()).containsOnlyOnce(id);
      GroupRoute r = view.getRouting(g.getGroupId());
      assertThat(Set.copyOf(r.getVotersList())).as("routing of group %d", g.getGroupId())
          .isEqualTo(Set.copyOf(g.getVotersList()));
      assertThat(Set.copyOf(r.getLearnersList())).as("routing of group %d", g.getGroupId())
          .isEqualTo(Set.copyOf(g.getLearnersList()));
    }
    assertThat(nodeRecord(view, id).getState()).isIn(NodeState.LEARNER, NodeState.ACTIVE);
  }

  private static void assertGoneEverywhere(long id) throws Exception {
    ClusterView view = cluster.view();
    assertThat(nodeRecord(view, id)).as("topology entry of node %s", Long.toUnsignedString(id)).isNull();
    for (GroupView g : view.getGroupsList()) {
      assertThat(members(g)).as("members of group %d", g.getGroupId()).doesNotContain(id);
      assertThat(view.getRouting(g.getGroupId()).getLearnersList()).doesNotContain(id);
      assertThat(view.getRouting(g.getGroupId()).getVotersList()).doesNotContain(id);
    }
  }

  // ---- W10 ----

  @Test
  @Order(1)
  void shouldRefuseANodeThatLostItsDiskUntilItsOldSelfIsRemoved() throws Exception {
    Node four = cluster.startNode(4, false);
    JoinResponse first = cluster.join(four, QUIET);
    assertThat(first.getSuccess()).as(first.getError()).isTrue();
    awaitPromotionDone(4);
    assertThat(cluster.view().getGroupsList()).allSatisfy(g -> assertThat(g.getVotersList()).contains(4L));
    String oldIncarnation = four.identity().incarnation();
    String addr = addr(four);

    // The disk is lost: same id, same address, empty data dir, so a new incarnation.
    cluster.stopNode(four);
    DevCluster.deleteRecursively(dir.resolve("node-4"));
    Node reborn = cluster.startNode(4, false);
    String newIncarnation = reborn.identity().incarnation();
    assertThat(newIncarnation).isNotEqualTo(oldIncarnation);
    Membership before = membership();

    long t0 = System.nanoTime();
    assertRejected(request(4, addr), Status.Code.FAILED_PRECONDITION, "node 4 at " + addr + " lost its data: it"
        + " joined as incarnation " + oldIncarnation + " but now answers as " + newIncarnation + ", and the old"
        + " node is still a voter of groups 0, 1, 2; giving that vote to a node with an empty log would risk the"
        + " groups' committed data; remove the old node first with joinflow leave 4, then join again");
    System.out.printf("disk-loss rejoin refused in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    assertThat(membership()).as("nothing changed: the old node keeps its seat, nobody gets a vote").isEqualTo(before);
    assertUntouched(reborn);

    // The remedy the message names works: the old node leaves, the new one joins as a learner.
    LeaveResponse left = gateway().leave(LeaveRequest.newBuilder().setNodeId(4).build());
    assertThat(left.getSuccess()).as(left.getError()).isTrue();
    JoinResponse again = cluster.join(reborn, QUIET);
    assertThat(again.getSuccess()).as(again.getError()).isTrue();
    assertThat(again.getAlreadyJoined()).isFalse();
    assertJoinedEverywhere(4);
    NodeRecord record = nodeRecord(cluster.view(), 4);
    assertThat(record.getIncarnation()).isEqualTo(newIncarnation);
    assertThat(reborn.hostedGroups()).containsExactly(0, 1, 2);
    assertThat(reborn.identity().clusterId()).isEqualTo(cluster.view().getClusterId());
    awaitPromotionDone(4);
  }

  // ---- malformed requests ----

  @Test
  @Order(2)
  void shouldRefuseMalformedAddressesBeforeStartingAJoin() throws Exception {
    Membership before = membership();
    assertRejected(request(9, ""), Status.Code.INVALID_ARGUMENT,
        "invalid listen_addr '': address is empty; expected host:port");
    assertRejected(request(9, "127.0.0.1:0"), Status.Code.INVALID_ARGUMENT,
        "invalid listen_addr '127.0.0.1:0': '127.0.0.1:0' has port 0; use 1-65535");
    assertRejected(request(9, "127.0.0.1:http"), Status.Code.INVALID_ARGUMENT,
        "invalid listen_addr '127.0.0.1:http': '127.0.0.1:http' has a non-numeric port");
    assertRejected(request(9, "::1:7100"), Status.Code.INVALID_ARGUMENT,
        "invalid listen_addr '::1:7100': '::1:7100': write IPv6 hosts in brackets, as [::1]:7100");
    // No certificate names node 0 (JoinRequestsTest checks the id itself), and a node asks only as itself.
    StatusRuntimeException zero = catchThrowableOfType(StatusRuntimeException.class,
        () -> gateway(9).join(request(0, "127.0.0.1:7100")));
    assertThat(zero.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(zero.getStatus().getDescription()).isEqualTo("the caller is node 9 of " + DevCerts.CLUSTER
        + " and may ask only about node 9, not node 0; a node joins with its own certificate");
    assertThat(membership()).isEqualTo(before);
  }

  @Test
  @Order(3)
  void shouldRefuseAddressesOtherNodesCannotDial() throws Exception {
    Membership before = membership();
    for (String wildcard : List.of("0.0.0.0:7100", "[::]:7100", "[0:0:0:0:0:0:0:0]:7100")) {
      Status s = rejected(request(9, wildcard));
      assertThat(s.getCode()).as(wildcard).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(s.getDescription()).isEqualTo("invalid listen_addr '" + wildcard + "': "
          + wildcard.substring(0, wildcard.lastIndexOf(':')).replace("[", "").replace("]", "")
          + " means every interface, which other nodes cannot dial; give an address they can reach");
    }
    // "0" is another spelling of 0.0.0.0: only resolving the host tells.
    assertRejected(request(9, "0:7100"), Status.Code.INVALID_ARGUMENT, "invalid listen_addr '0:7100': 0 is 0.0.0.0,"
        + " which means every interface and other nodes cannot dial; give an address they can reach");
    assertRejected(request(9, "no-such-host.invalid:7100"), Status.Code.INVALID_ARGUMENT,
        "invalid listen_addr 'no-such-host.invalid:7100': host no-such-host.invalid cannot be resolved; give a host"
            + " name or IP address the cluster's nodes can resolve");
    assertThat(membership()).isEqualTo(before);
  }

  @Test
  @Order(4)
  void shouldRefuseAnAddressThatBelongsToAnotherNode() throws Exception {
    Node two = cluster.nodes().stream().filter(n -> n.nodeId() == 2).findFirst().orElseThrow();
    Membership before = membership();
    assertRejected(request(9, addr(two)), Status.Code.ALREADY_EXISTS,
        "listen_addr " + addr(two) + " is already used by node 2");
    // Spelled differently, the address escapes the comparison; the handshake still finds node 2.
    String spelled = "localhost:" + two.config().listen().port();
    assertRejected(request(9, spelled), Status.Code.FAILED_PRECONDITION,
        "this is node 2, not 9; check the address");
    assertThat(membership()).isEqualTo(before);
  }

  @Test
  @Order(5)
  void shouldRefuseAnUnknownWireVersion() throws Exception {
    Node nine = cluster.startNode(9, false);
    try {
      Membership before = membership();
      assertRejected(request(9, addr(nine)).toBuilder().setWireVersion(7).build(), Status.Code.FAILED_PRECONDITION,
          "unsupported wire_version 7; this cluster speaks 1");
      assertRejected(request(9, addr(nine)).toBuilder().setWireVersion(65_536).build(),
          Status.Code.FAILED_PRECONDITION, "unsupported wire_version 65536; this cluster speaks 1");
      assertThat(membership()).isEqualTo(before);
      assertUntouched(nine);
    } finally {
      cluster.stopNode(nine);
    }
  }

  @Test
  @Order(6)
  void shouldRefuseANodeOfAnotherCluster() throws Exception {
    Node foreign = cluster.startNode(7, true);
    try {
      long ours = cluster.view().getClusterId();
      long theirs = foreign.identity().clusterId();
      assertThat(theirs).isNotZero().isNotEqualTo(ours);
      List<RaftGroupId> theirGroups = new ArrayList<>();
      foreign.raftServer().getGroupIds().forEach(theirGroups::add);
      Membership before = membership();

      assertRejected(request(7, addr(foreign)), Status.Code.FAILED_PRECONDITION, "node 7 belongs to cluster "
          + Long.toUnsignedString(theirs) + ", not " + Long.toUnsignedString(ours) + "; wipe its data dir to move it");

      assertThat(membership()).isEqualTo(before);
      assertThat(foreign.identity().clusterId()).isEqualTo(theirs);
      assertThat(foreign.raftServer().getGroupIds()).containsExactlyInAnyOrderElementsOf(theirGroups)
          .allSatisfy(g -> assertThat(ClusterIds.clusterIdOf(g)).isEqualTo(theirs));
    } finally {
      cluster.stopNode(foreign);
    }
  }

  // ---- ids ----

  @Test
  @Order(7)
  void shouldJoinTheLargestNodeIdAndNameItUnsigned() throws Exception {
    Node max = cluster.startNode(MAX_ID, 11, false);
    JoinResponse r = cluster.join(max, QUIET);
    assertThat(r.getSuccess()).as(r.getError()).isTrue();
    assertThat(r.getWorkflowId()).endsWith("/18446744073709551615");
    assertJoinedEverywhere(MAX_ID);
    awaitPromotionDone(MAX_ID);

    Membership before = membership();
    assertRejected(request(MAX_ID, "127.0.0.1:1"), Status.Code.ALREADY_EXISTS, "node_id 18446744073709551615"
        + " already registered with different address " + addr(max) + " (request: 127.0.0.1:1)");
    assertThat(membership()).isEqualTo(before);
  }

  // ---- races ----

  @Test
  @Order(8)
  void shouldLetExactlyOneOfTwoInstancesOfOneIdJoin() throws Exception {
    Node a = cluster.startNode(8, 8, false);
    Node b = cluster.startNode(8, 9, false);
    Object outcomeA;
    Object outcomeB;
    // Group 1 is held so the first join is surely still running when the second arrives.
    try (ConfHold hold = ConfHold.start(cluster.nodes().get(0), 1)) {
      hold.awaitHeld();
      CompletableFuture<Object> ra = CompletableFuture.supplyAsync(() -> joinOrStatus(a));
      CompletableFuture<Object> rb = CompletableFuture.supplyAsync(() -> joinOrStatus(b));
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> ra.isDone() || rb.isDone());
      hold.close();
      outcomeA = ra.get(3, TimeUnit.MINUTES);
      outcomeB = rb.get(3, TimeUnit.MINUTES);
    }

    Node winner = outcomeA instanceof JoinResponse ? a : b;
    Node loser = winner == a ? b : a;
    Object won = winner == a ? outcomeA : outcomeB;
    Object lost = winner == a ? outcomeB : outcomeA;
    assertThat(won).isInstanceOfSatisfying(JoinResponse.class,
        j -> assertThat(j.getSuccess()).as(j.getError()).isTrue());
    assertThat(lost).as("the other instance is refused").isInstanceOfSatisfying(Status.class, s -> {
      assertThat(s.getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
      assertThat(s.getDescription()).isEqualTo("node_id 8 is already joining from " + addr(winner) + " (request: "
          + addr(loser) + "); one node id joins from one address: stop the other instance, or give this one"
          + " another --node-id");
    });
    assertJoinedEverywhere(8);
    ClusterView view = cluster.view();
    assertThat(nodeRecord(view, 8).getAddr()).isEqualTo(addr(winner));
    assertThat(nodeRecord(view, 8).getRaftAddr()).isEqualTo(winner.config().raftListen().toString());
    for (int g = 0; g <= GROUPS; g++) {
      // The group's own configuration addresses node 8 at the winner's Ratis port.
      Node voter = cluster.nodes().get(0);
      Conf conf = voter.membership().confs().readConf(voter.groupId(g), voter.candidates(voter.localMetadata(), g));
      assertThat(conf.listeners().stream().filter(p -> p.getId().equals(ClusterIds.peerId(8))))
          .singleElement().satisfies(p -> assertThat(p.getAddress()).isEqualTo(winner.config().raftListen().toString()));
    }
    assertUntouched(loser);
    assertThat(winner.hostedGroups()).containsExactly(0, 1, 2);
    awaitPromotionDone(8);
    cluster.stopNode(loser);
  }

  private static Object joinOrStatus(Node node) {
    try {
      return gateway(8).join(request(8, addr(node)));
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  @Test
  @Order(9)
  void shouldWaitOutAnotherConfigurationChangeAndStillJoin() throws Exception {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    Logger membershipLog = (Logger) LoggerFactory.getLogger(ConfChanges.class);
    log.start();
    membershipLog.addAppender(log);
    Node ten = cluster.startNode(10, false);
    JoinResponse r;
    long heldMs;
    try (ConfHold hold = ConfHold.start(cluster.nodes().get(0), 1)) {
      hold.awaitHeld();
      long t0 = System.nanoTime();
      CompletableFuture<JoinResponse> join = CompletableFuture.supplyAsync(() -> gateway(10).join(request(10, addr(ten))));
      // Keep the group held until the join has tried (and failed) to change it.
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
          .until(() -> refusedAttempts(log, "add learner n10", 1) > 0 || join.isDone());
      hold.close();
      heldMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      r = join.get(2, TimeUnit.MINUTES);
      System.out.printf("join waited out a held configuration (%d changes held it, %d ms) and answered after %d ms%n",
          hold.changes(), heldMs, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    } finally {
      membershipLog.detachAppender(log);
    }
    assertThat(r.getSuccess()).as(r.getError()).isTrue();
    assertThat(committedAfterRefusals(log, "add learner n10", 1)).as("group 1 refused the join's change at least once,"
        + " then took it").isGreaterThan(1);
    assertJoinedEverywhere(10);
    for (GroupView g : cluster.view().getGroupsList()) {
      assertThat(members(g)).as("the held change left no trace in group %d", g.getGroupId())
          .doesNotContain(ConfHold.GHOST);
    }
    awaitPromotionDone(10);
  }

  private static final Pattern REFUSED = Pattern.compile(
      "group (\\d+): (.+) attempt \\d+ failed: .*ReconfigurationInProgress.*", Pattern.DOTALL);
  private static final Pattern COMMITTED = Pattern.compile("group (\\d+): (.+) committed \\(attempt (\\d+)\\)");

  private static long refusedAttempts(ListAppender<ILoggingEvent> log, String what, int group) {
    return List.copyOf(log.list).stream().map(ILoggingEvent::getFormattedMessage).map(REFUSED::matcher)
        .filter(m -> m.matches() && m.group(1).equals(String.valueOf(group)) && m.group(2).equals(what)).count();
  }

  /** The attempt at which the change committed (0 if it did not). */
  private static int committedAfterRefusals(ListAppender<ILoggingEvent> log, String what, int group) {
    for (ILoggingEvent e : List.copyOf(log.list)) {
      Matcher m = COMMITTED.matcher(e.getFormattedMessage());
      if (m.matches() && m.group(1).equals(String.valueOf(group)) && m.group(2).equals(what)) {
        return Integer.parseInt(m.group(3));
      }
    }
    return 0;
  }

  // ---- W7 ----

  @Test
  @Order(10)
  void shouldCompensateWithinTheDeadlineWhenTheJoiningNodeDiesAsALearner() throws Exception {
    Node six = cluster.startNode(6, false);
    // A gateway with tokens optional needs none but checks one it is given: the compensation gives it back.
    String token = gateway().createToken(CreateTokenRequest.newBuilder().setNodeId(6).build()).getToken();
    JoinResponse r;
    long tookMs;
    long t0;
    // Group 2 is held so the join is still running when node 6 is a learner of groups 0 and 1.
    try (ConfHold hold = ConfHold.start(cluster.nodes().get(0), 2)) {
      hold.awaitHeld();
      t0 = System.nanoTime();
      CompletableFuture<JoinResponse> join = CompletableFuture.supplyAsync(() -> gateway(6).join(request(6, addr(six))
          .toBuilder().setToken(token).build()));
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
        ClusterView v = cluster.view();
        return v.getGroups(0).getLearnersList().contains(6L) && v.getGroups(1).getLearnersList().contains(6L);
      });
      JoinProgress progress = gateway().getJoin(GetJoinRequest.newBuilder().setNodeId(6).build());
      assertThat(progress.getPhase()).isEqualTo("learners");
      assertThat(tokenState(token)).as("held by the running join").isEqualTo(TokenState.TOKEN_IN_FLIGHT);
      assertThat(progress.getGroupsList()).filteredOn(g -> g.getGroupId() == 2).extracting(GroupProgress::getState)
          .containsExactly("pending");
      cluster.killNode(six);
      hold.close();
      r = join.get(3, TimeUnit.MINUTES);
      tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
    System.out.printf("join of a node that died as a learner compensated after %d ms: %s%n", tookMs, r.getError());
    assertThat(r.getSuccess()).isFalse();
    assertThat(r.getError()).startsWith("deadline of " + DEADLINE_MS + " ms passed during learners");
    // The deadline, a step in flight's 5 s grace, then removal from two groups, eviction and a
    // broadcast that retries the dead node (3 attempts of 3 s).
    assertThat(tookMs).isLessThan(DEADLINE_MS + 30_000);
    assertGoneEverywhere(6);
    JoinRecord record = cluster.view().getJoinsList().stream().filter(j -> j.getNodeId() == 6).findFirst()
        .orElseThrow();
    assertThat(record.getOutcome()).startsWith("compensated: deadline of " + DEADLINE_MS + " ms");
    assertThat(tokenState(token)).as("given back by the compensation").isEqualTo(TokenState.TOKEN_ISSUED);
  }

  private static TokenState tokenState(String token) {
    String id = token.substring(0, token.indexOf('.'));
    return gateway().listTokens(ListTokensRequest.getDefaultInstance()).getTokensList().stream()
        .filter(t -> t.getId().equals(id)).findFirst().map(TokenInfo::getState).orElseThrow();
  }

  @Test
  @Order(11)
  void shouldCheckATokenAGatewayWithOptionalTokensIsGivenAndConsumeItWhenTheNodeJoins() throws Exception {
    Node node = cluster.startNode(21, false);
    String token = gateway().createToken(CreateTokenRequest.newBuilder().setNodeId(21).build()).getToken();
    String other = gateway().createToken(CreateTokenRequest.newBuilder().setNodeId(22).build()).getToken();
    Membership before = membership();
    Status wrong = rejected(request(21, addr(node)).toBuilder()
        .setToken(token.substring(0, 7) + "0000000000000000").build());
    assertThat(wrong.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(wrong.getDescription()).startsWith("the join token is wrong: no token has this id and secret");
    Status theirs = rejected(request(21, addr(node)).toBuilder().setToken(other).build());
    assertThat(theirs.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(theirs.getDescription()).startsWith("join token " + other.substring(0, 6) + " is for node 22, not node 21");
    assertThat(membership()).isEqualTo(before);
    assertUntouched(node);
    assertThat(tokenState(token)).isEqualTo(TokenState.TOKEN_ISSUED);

    JoinResponse joined = gateway(21).join(request(21, addr(node)).toBuilder().setToken(token).build());
    assertThat(joined.getSuccess()).as(joined.getError()).isTrue();
    assertThat(tokenState(token)).isEqualTo(TokenState.TOKEN_CONSUMED);
    assertThat(tokenState(other)).isEqualTo(TokenState.TOKEN_ISSUED);
  }

  /**
   * Holds a group's configuration from the test side: keeps a compare-and-set in flight that adds
   * a listener nobody runs, so the leader stages it until the staging timeout and refuses every
   * other change with {@code ReconfigurationInProgressException} meanwhile. Each attempt
   * ends with the configuration unchanged; closing stops issuing new ones and waits for the last.
   */
  private static final class ConfHold implements AutoCloseable {
    static final long GHOST = 999;
    private final Node via;
    private final int group;
    private final RaftPeer ghost;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final AtomicInteger changes = new AtomicInteger();
    private final Thread thread;

    private ConfHold(Node via, int group) {
      this.via = via;
      this.group = group;
      this.ghost = RaftPeer.newBuilder().setId(ClusterIds.peerId(GHOST))
          .setAddress("127.0.0.1:" + Ports.freeBase(1)).setStartupRole(RaftPeerRole.LISTENER).build();
      this.thread = new Thread(this::run, "conf-hold-" + group);
      thread.setDaemon(true);
    }

    static ConfHold start(Node via, int group) {
      ConfHold h = new ConfHold(via, group);
      h.thread.start();
      return h;
    }

    int changes() {
      return changes.get();
    }

    private void run() {
      while (!stopped.get()) {
        try {
          tryChange();
        } catch (IOException e) {
          // Staging timed out, or another change was in flight: the conf is unchanged; go again.
        }
      }
    }

    /** Ratis' transport as the node the hold goes through: the Ratis port takes node certificates only. */
    private org.apache.ratis.conf.Parameters transport() {
      return via.config().tls() == null ? new org.apache.ratis.conf.Parameters()
          : io.joinflow.node.raft.RaftTls.parameters(via.config().tls());
    }

    /** One compare-and-set adding the ghost; returns when the leader answers. */
    private void tryChange() throws IOException {
      RaftGroupId gid = via.groupId(group);
      Conf conf = via.membership().confs().readConf(gid, via.candidates(via.localMetadata(), group));
      List<RaftPeer> listeners = new ArrayList<>(conf.listeners());
      listeners.add(ghost);
      RaftProperties p = new RaftProperties();
      RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(30, TimeUnit.SECONDS));
      try (RaftClient c = RaftClient.newBuilder().setProperties(p).setParameters(transport())
          .setRaftGroup(RaftGroup.valueOf(gid, conf.voters()))
          .setLeaderId(conf.leader().getId()).setRetryPolicy(RetryPolicies.noRetry()).build()) {
        changes.incrementAndGet();
        c.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
            .setServersInCurrentConf(conf.voters()).setListenersInCurrentConf(conf.listeners())
            .setServersInNewConf(conf.voters()).setListenersInNewConf(listeners).build());
      }
    }

    /** Waits until a change of the group is refused because the hold's change is in flight. */
    void awaitHeld() {
      RaftGroupId gid = via.groupId(group);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
        Conf conf = via.membership().confs().readConf(gid, via.candidates(via.localMetadata(), group));
        try (RaftClient c = RaftClient.newBuilder().setProperties(new RaftProperties()).setParameters(transport())
            .setRaftGroup(RaftGroup.valueOf(gid, conf.voters())).setLeaderId(conf.leader().getId())
            .setRetryPolicy(RetryPolicies.noRetry()).build()) {
          // The same conf again: were it accepted, nothing would change.
          c.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
              .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
              .setServersInCurrentConf(conf.voters()).setListenersInCurrentConf(conf.listeners())
              .setServersInNewConf(conf.voters()).setListenersInNewConf(conf.listeners()).build());
          return false;
        } catch (ReconfigurationInProgressException e) {
          return true;
        } catch (IOException e) {
          return e.getCause() instanceof ReconfigurationInProgressException;
        }
      });
    }

    @Override
    public void close() {
      if (stopped.compareAndSet(false, true)) {
        try {
          thread.join(TimeUnit.SECONDS.toMillis(40));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
