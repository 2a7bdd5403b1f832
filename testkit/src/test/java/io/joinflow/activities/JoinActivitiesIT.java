package io.joinflow.activities;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.joinflow.node.Node;
import io.joinflow.node.testing.MiniCluster;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.TopologyUpdate;
import io.joinflow.workflows.ClusterSnapshot;
import io.joinflow.workflows.JoinActivities;
import io.joinflow.workflows.JoinActivities.AdmitInput;
import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.BroadcastResult;
import io.joinflow.workflows.JoinActivities.EvictInput;
import io.joinflow.workflows.JoinActivities.FinishInput;
import io.joinflow.workflows.JoinActivities.FinishResult;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.joinflow.workflows.JoinActivities.PeerInfo;
import io.joinflow.workflows.JoinActivities.PersistInput;
import io.joinflow.workflows.JoinActivities.PrepareInput;
import io.joinflow.workflows.JoinActivities.PrepareResult;
import io.joinflow.workflows.JoinActivities.RegisterInput;
import io.joinflow.workflows.JoinActivities.ValidateInput;
import io.joinflow.workflows.JoinActivities.ValidateResult;
import io.joinflow.workflows.JoinFailures;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;

/**
 * The join activities against three real voters with four data groups (real Ratis, RocksDB and
 * NodeAdmin on loopback), called through Temporal's activity test environment so heartbeats and
 * failure conversion are the real ones. Each test joins its own node id, so they share one
 * cluster and run in any order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JoinActivitiesIT {
  private static final int GROUPS = 4;

  private MiniCluster cluster;
  private NodeAdminPool pool;
  private TestActivityEnvironment env;
  private JoinActivities activities;
  private long clusterId;

  @BeforeAll
  void startCluster() {
    cluster = new MiniCluster(MiniCluster.tempDir("activities"), GROUPS, MiniCluster.testSettings()).startVoters(3);
    clusterId = cluster.metadata().getClusterId();
    pool = new NodeAdminPool(Stream.of(1L, 2L, 3L).map(this::addr).toList());
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new JoinActivitiesImpl(pool));
    activities = env.newActivityStub(JoinActivities.class, ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(60))
        .setHeartbeatTimeout(Duration.ofSeconds(10))
        // The workflow owns retries; here every failure must surface as it is.
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .build());
  }

  @AfterAll
  void stopCluster() {
    if (env != null) {
      env.close();
    }
    if (pool != null) {
      pool.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private String addr(long id) {
    return cluster.node(id).config().listen().toString();
  }

  @Test
  void shouldJoinAnEmptyNodeAsLearnerOfEveryGroupAndRecognizeTheRepeat() {
    long id = 4;
    String wf = "join/" + clusterId + "/4";
    Node node = cluster.startNode(id, false);
    String addr = addr(id);

    long t0 = System.nanoTime();
    ValidateResult validated = activities.validate(new ValidateInput(id, addr, 1, clusterId));
    assertThat(validated.alreadyJoined()).isFalse();
    assertThat(validated.clusterId()).isEqualTo(clusterId);
    assertThat(validated.dataGroups()).isEqualTo(GROUPS);
    PeerInfo peer = activities.registerPeer(new RegisterInput(id, addr, clusterId));
    assertThat(peer.raftAddr()).isEqualTo(node.config().raftListen().toString());
    assertThat(peer.incarnation()).isEqualTo(node.identity().incarnation());
    activities.admit(new AdmitInput(id, addr, peer.raftAddr(), peer.incarnation(), 1, wf));
    assertThat(nodeRecord(id)).map(NodeRecord::getState).contains(NodeState.JOINING);
    for (int g : cluster.groups()) {
      GroupStep step = activities.addLearner(new GroupInput(id, g));
      assertThat(step.changed()).isTrue();
      assertThat(step.learners()).contains(id);
      assertThat(step.voters()).containsExactlyInAnyOrder(1L, 2L, 3L);
    }
    for (int g : cluster.groups()) {
      GroupStep step = activities.awaitLearner(new GroupInput(id, g));
      assertThat(step.appliedIndex()).isGreaterThanOrEqualTo(step.targetIndex());
      assertThat(step.targetIndex()).isPositive();
    }
    ClusterSnapshot persisted = activities.persist(new PersistInput(id, wf));
    BroadcastResult broadcast = activities.broadcast(new BroadcastInput(id, addr));
    System.out.printf("join of node 4 into %d groups: %d ms%n", cluster.groups().size(),
        (System.nanoTime() - t0) / 1_000_000);

    for (int g : cluster.groups()) {
      assertThat(cluster.conf(g).listenerIds()).as("learners of group %d", g).contains(id);
      assertThat(cluster.conf(g).voterIds()).as("voters of group %d", g).containsExactly(1L, 2L, 3L);
    }
    MetadataState md = cluster.metadata();
    assertThat(nodeRecord(id)).hasValueSatisfying(n -> {
      assertThat(n.getState()).isEqualTo(NodeState.LEARNER);
      assertThat(n.getAddr()).isEqualTo(addr);
      assertThat(n.getIncarnation()).isEqualTo(node.identity().incarnation());
    });
    for (GroupRoute r : md.getRoutingList()) {
      assertThat(r.getLearnersList()).as("routing of group %d", r.getGroupId()).contains(id);
    }
    assertThat(joinRecord(id)).hasValueSatisfying(j -> {
      assertThat(j.getWorkflowId()).isEqualTo(wf);
      assertThat(j.getPhase()).isEqualTo("persist");
      assertThat(j.getOutcome()).isEqualTo("succeeded");
      assertThat(j.getUpdatedAtMillis()).isPositive();
    });
    assertThat(persisted.nodes()).filteredOn(n -> n.nodeId() == id).singleElement().satisfies(n -> {
      assertThat(n.state()).isEqualTo("LEARNER");
      assertThat(n.raftGroups()).containsExactlyElementsOf(cluster.groups());
    });
    assertThat(persisted.topologyVersion()).isEqualTo(md.getTopologyVersion());

    assertThat(broadcast.version()).isEqualTo(md.getTopologyVersion());
    assertThat(broadcast.acked()).contains(id);
    assertThat(broadcast.unreachable()).isEmpty();
    Optional<TopologyUpdate> pushed = node.catalog().topologyUpdate();
    assertThat(pushed).hasValueSatisfying(u -> {
      assertThat(u.getClusterId()).isEqualTo(clusterId);
      assertThat(u.getVersion()).isEqualTo(broadcast.version());
      assertThat(u.getState().getNodesList()).anyMatch(n -> n.getNodeId() == id);
    });
    assertThat(node.identity().clusterId()).isEqualTo(clusterId);

    // Every step again: already done, nothing changes (the join record's timestamp aside).
    ValidateResult again = activities.validate(new ValidateInput(id, addr, 1, clusterId));
    assertThat(again.alreadyJoined()).isTrue();
    assertThat(again.current().nodes()).anyMatch(n -> n.nodeId() == id && n.state().equals("LEARNER"));
    activities.admit(new AdmitInput(id, addr, peer.raftAddr(), peer.incarnation(), 1, wf));
    assertThat(nodeRecord(id)).map(NodeRecord::getState).contains(NodeState.LEARNER);
    assertThat(activities.addLearner(new GroupInput(id, 1)).changed()).isFalse();
    assertThat(activities.persist(new PersistInput(id, wf)).topologyVersion()).isEqualTo(md.getTopologyVersion());

    // W10: same id and address, but the disk was lost. That is not the node that joined.
    cluster.stopNode(id);
    deleteRecursively(cluster.dataDir(id));
    Node reborn = cluster.startNode(id, false);
    assertThat(reborn.identity().incarnation()).isNotEqualTo(peer.incarnation());
    ApplicationFailure refused = failure(() -> activities.validate(new ValidateInput(id, addr, 1, clusterId)));
    assertThat(refused.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(refused.getOriginalMessage()).startsWith("node 4 at " + addr + " lost its data")
        .contains("still a learner of groups 0, 1, 2, 3, 4");

    // Its old self is a learner that will never catch up again; a listener that makes no
    // progress stalls every later configuration change of its groups, so take it out.
    for (int g : cluster.groups()) {
      assertThat(activities.removeLearner(new GroupInput(id, g)).changed()).isTrue();
    }
    activities.evict(new EvictInput(id, wf, "node 4 lost its disk"));
    for (int g : cluster.groups()) {
      assertThat(cluster.conf(g).listenerIds()).as("learners of group %d", g).doesNotContain(id);
    }
    assertThat(nodeRecord(id)).isEmpty();
    // With its old self gone, the node may join afresh.
    assertThat(activities.validate(new ValidateInput(id, addr, 1, clusterId)).alreadyJoined()).isFalse();
  }

  @Test
  void shouldPrepareAndFinishLikeTheStepsTheyStandFor() {
    long id = 8;
    String wf = "join/" + clusterId + "/8";
    Node node = cluster.startNode(id, false);
    String addr = addr(id);

    PrepareResult prepared = activities.prepare(new PrepareInput(id, addr, 1, clusterId, wf));
    assertThat(prepared.alreadyJoined()).isFalse();
    assertThat(prepared.clusterId()).isEqualTo(clusterId);
    assertThat(prepared.dataGroups()).isEqualTo(GROUPS);
    assertThat(prepared.peer().raftAddr()).isEqualTo(node.config().raftListen().toString());
    assertThat(prepared.peer().incarnation()).isEqualTo(node.identity().incarnation());
    assertThat(nodeRecord(id)).map(NodeRecord::getState).contains(NodeState.JOINING);
    assertThat(joinRecord(id)).map(JoinRecord::getWorkflowId).contains(wf);
    // Run again (a retry after a lost answer): the same admission, nothing new.
    assertThat(activities.prepare(new PrepareInput(id, addr, 1, clusterId, wf)).peer()).isEqualTo(prepared.peer());
    for (int g : cluster.groups()) {
      activities.addLearner(new GroupInput(id, g));
      activities.awaitLearner(new GroupInput(id, g));
    }

    FinishResult finished = activities.finish(new FinishInput(id, addr, wf));
    assertThat(nodeRecord(id)).map(NodeRecord::getState).contains(NodeState.LEARNER);
    assertThat(finished.persisted().topologyVersion()).isEqualTo(cluster.metadata().getTopologyVersion());
    assertThat(finished.broadcast().version()).isEqualTo(finished.persisted().topologyVersion());
    assertThat(finished.broadcast().acked()).contains(id);
    assertThat(node.catalog().topologyUpdate()).hasValueSatisfying(
        u -> assertThat(u.getVersion()).isEqualTo(finished.broadcast().version()));
    assertThat(joinRecord(id)).hasValueSatisfying(j -> assertThat(j.getOutcome()).isEqualTo("succeeded"));
    assertThat(activities.finish(new FinishInput(id, addr, wf)).persisted().topologyVersion())
        .isEqualTo(finished.persisted().topologyVersion());

    // Joined: prepare only says so, and changes nothing.
    PrepareResult again = activities.prepare(new PrepareInput(id, addr, 1, clusterId, wf));
    assertThat(again.alreadyJoined()).isTrue();
    assertThat(again.peer()).isNull();
    assertThat(cluster.metadata().getTopologyVersion()).isEqualTo(finished.persisted().topologyVersion());

    for (int g : cluster.groups()) {
      activities.removeLearner(new GroupInput(id, g));
    }
    activities.evict(new EvictInput(id, wf, "test done"));
    cluster.stopNode(id);
  }

  @Test
  void shouldRejectInPrepareBeforeChangingAnything() {
    long id = 9;
    String wf = "join/" + clusterId + "/9";
    cluster.startNode(id, false);
    long version = cluster.metadata().getTopologyVersion();

    // Another node's address: validate's rejection, before registerPeer and admit.
    ApplicationFailure refused = failure(() -> activities.prepare(new PrepareInput(id, addr(1), 1, clusterId, wf)));
    assertThat(refused.getType()).isEqualTo(JoinFailures.ALREADY_EXISTS);
    assertThat(refused.getOriginalMessage()).contains("already used by node 1");
    assertThat(nodeRecord(id)).isEmpty();
    assertThat(joinRecord(id)).isEmpty();
    assertThat(cluster.metadata().getTopologyVersion()).isEqualTo(version);
    cluster.stopNode(id);
  }

  @Test
  void shouldCompensateWithoutTraceAndTwiceHarmlessly() {
    long id = 5;
    String wf = "join/" + clusterId + "/5";
    cluster.startNode(id, false);
    String addr = addr(id);
    activities.validate(new ValidateInput(id, addr, 1, clusterId));
    PeerInfo peer = activities.registerPeer(new RegisterInput(id, addr, clusterId));
    activities.admit(new AdmitInput(id, addr, peer.raftAddr(), peer.incarnation(), 1, wf));
    for (int g = 0; g <= 2; g++) {
      activities.addLearner(new GroupInput(id, g));
    }

    // A half-join is neither persisted (W1, W5) nor evicted while it is still a member (W7).
    ApplicationFailure halfJoin = failure(() -> activities.persist(new PersistInput(id, wf)));
    assertThat(halfJoin.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(halfJoin.getOriginalMessage()).contains("node 5 is not a voter or learner of groups 3, 4");
    assertThat(nodeRecord(id)).map(NodeRecord::getState).contains(NodeState.JOINING);
    ApplicationFailure early = failure(() -> activities.evict(new EvictInput(id, wf, "too early")));
    assertThat(early.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(nodeRecord(id)).isPresent();

    for (int round = 1; round <= 2; round++) {
      for (int g : cluster.groups()) {
        GroupStep step = activities.removeLearner(new GroupInput(id, g));
        assertThat(step.learners()).doesNotContain(id);
        assertThat(step.voters()).doesNotContain(id);
        assertThat(step.changed()).as("round %d group %d", round, g).isEqualTo(round == 1 && g <= 2);
      }
      activities.evict(new EvictInput(id, wf, "join deadline passed"));
      BroadcastResult b = activities.broadcast(new BroadcastInput(id, addr));
      assertThat(b.acked()).contains(id);
    }

    for (int g : cluster.groups()) {
      assertThat(cluster.conf(g).listenerIds()).as("learners of group %d", g).doesNotContain(id);
      assertThat(cluster.conf(g).voterIds()).as("voters of group %d", g).doesNotContain(id);
    }
    MetadataState md = cluster.metadata();
    assertThat(nodeRecord(id)).isEmpty();
    for (GroupRoute r : md.getRoutingList()) {
      assertThat(r.getLearnersList()).doesNotContain(id);
      assertThat(r.getVotersList()).doesNotContain(id);
    }
    assertThat(joinRecord(id)).hasValueSatisfying(j -> {
      assertThat(j.getPhase()).isEqualTo("compensated");
      assertThat(j.getOutcome()).isEqualTo("compensated: join deadline passed");
      assertThat(j.getWorkflowId()).isEqualTo(wf);
    });
    await("node 5 drops its divisions").atMost(Duration.ofSeconds(20))
        .until(() -> cluster.node(id).hostedGroups().isEmpty());
  }

  @Test
  void shouldRejectBadRequestsWithTypedFailures() {
    ApplicationFailure zero = failure(() -> activities.validate(new ValidateInput(0, "127.0.0.1:7100", 1, clusterId)));
    assertThat(zero.getType()).isEqualTo(JoinFailures.INVALID_ARGUMENT);
    assertThat(zero.isNonRetryable()).isTrue();

    ApplicationFailure malformed = failure(() -> activities.validate(new ValidateInput(9, "not an address", 1, clusterId)));
    assertThat(malformed.getType()).isEqualTo(JoinFailures.INVALID_ARGUMENT);
    assertThat(malformed.getOriginalMessage()).startsWith("invalid listen_addr 'not an address': ");

    ApplicationFailure wildcard = failure(() -> activities.validate(new ValidateInput(9, "0.0.0.0:7100", 1, clusterId)));
    assertThat(wildcard.getType()).isEqualTo(JoinFailures.INVALID_ARGUMENT);

    ApplicationFailure wire = failure(() -> activities.validate(new ValidateInput(9, "127.0.0.1:7100", 2, clusterId)));
    assertThat(wire.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);

    ApplicationFailure foreign = failure(() -> activities.validate(new ValidateInput(9, "127.0.0.1:7100", 1, clusterId + 1)));
    assertThat(foreign.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(foreign.isNonRetryable()).isTrue();

    String elsewhere = "127.0.0.1:" + freePort();
    ApplicationFailure moved = failure(() -> activities.validate(new ValidateInput(1, elsewhere, 1, clusterId)));
    assertThat(moved.getType()).isEqualTo(JoinFailures.ALREADY_EXISTS);
    assertThat(moved.isNonRetryable()).isTrue();
    assertThat(moved.getOriginalMessage()).isEqualTo("node_id 1 already registered with different address "
        + addr(1) + " (request: " + elsewhere + ")");

    ApplicationFailure taken = failure(() -> activities.validate(new ValidateInput(9, addr(2), 1, clusterId)));
    assertThat(taken.getType()).isEqualTo(JoinFailures.ALREADY_EXISTS);
    assertThat(taken.getOriginalMessage()).isEqualTo("listen_addr " + addr(2) + " is already used by node 2");

    // Nobody listens there: the joining node may still be starting, so this is retried.
    ApplicationFailure absent = failure(() -> activities.validate(new ValidateInput(9, elsewhere, 1, clusterId)));
    assertThat(absent.getType()).isEqualTo(JoinFailures.UNAVAILABLE);
    assertThat(absent.isNonRetryable()).isFalse();
    assertThat(absent.getOriginalMessage()).startsWith("node 9 is not reachable at " + elsewhere);

    // Compensation never takes a vote away or drops a member from the topology.
    ApplicationFailure voter = failure(() -> activities.removeLearner(new GroupInput(2, 1)));
    assertThat(voter.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(voter.getOriginalMessage()).startsWith("node 2 is a voter of group 1");
    ApplicationFailure member = failure(() -> activities.evict(new EvictInput(2, "join/x/2", "wrong node")));
    assertThat(member.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(cluster.conf(1).voterIds()).containsExactly(1L, 2L, 3L);
    assertThat(nodeRecord(2)).isPresent();
    ApplicationFailure noGroup = failure(() -> activities.removeLearner(new GroupInput(9, GROUPS + 1)));
    assertThat(noGroup.getType()).isEqualTo(JoinFailures.NOT_FOUND);
  }

  @Test
  void shouldRefuseToAwaitALearnerThatWasNeverAdded() {
    long id = 6;
    String wf = "join/" + clusterId + "/6";
    cluster.startNode(id, false);
    String addr = addr(id);

    ApplicationFailure impostor = failure(() -> activities.registerPeer(new RegisterInput(8, addr, clusterId)));
    assertThat(impostor.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);

    PeerInfo peer = activities.registerPeer(new RegisterInput(id, addr, clusterId));
    activities.admit(new AdmitInput(id, addr, peer.raftAddr(), peer.incarnation(), 1, wf));

    ApplicationFailure f = failure(() -> activities.awaitLearner(new GroupInput(id, 1)));
    assertThat(f.getType()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).isEqualTo("node 6 is not a learner of group 1");

    activities.evict(new EvictInput(id, wf, "test done"));
    assertThat(nodeRecord(id)).isEmpty();
  }

  @Test
  void shouldHeartbeatWhileWaitingAndStopWhenCancelled() throws Exception {
    long id = 7;
    String wf = "join/" + clusterId + "/7";
    cluster.startNode(id, false);
    String addr = addr(id);
    PeerInfo peer = activities.registerPeer(new RegisterInput(id, addr, clusterId));
    activities.admit(new AdmitInput(id, addr, peer.raftAddr(), peer.incarnation(), 1, wf));
    activities.addLearner(new GroupInput(id, 1));

    // A retried attempt keeps the target of the attempt before it; one that is far ahead keeps
    // the wait going until the activity is cancelled.
    List<GroupStep> beats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment own = TestActivityEnvironment.newInstance();
    try {
      own.registerActivitiesImplementations(new JoinActivitiesImpl(pool));
      own.setActivityHeartbeatListener(GroupStep.class, beats::add);
      own.setHeartbeatDetails(new GroupStep(1, 0, List.of(), List.of(), false, 0, 1_000_000));
      JoinActivities stub = own.newActivityStub(JoinActivities.class, ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofSeconds(60))
          // Heartbeats are throttled to a fraction of this timeout: short, so the test is quick.
          .setHeartbeatTimeout(Duration.ofSeconds(1))
          .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
          .build());
      CompletableFuture<Throwable> waiting = CompletableFuture.supplyAsync(
          () -> catchThrowable(() -> stub.awaitLearner(new GroupInput(id, 1))));

      await("heartbeats while waiting").atMost(Duration.ofSeconds(10)).until(() -> beats.size() >= 2);
      assertThat(beats).allSatisfy(b -> {
        assertThat(b.groupId()).isEqualTo(1);
        assertThat(b.targetIndex()).isEqualTo(1_000_000);
        assertThat(b.appliedIndex()).isPositive();
      });
      own.requestCancelActivity();

      Throwable ended = waiting.get(10, TimeUnit.SECONDS);
      assertThat(ended).isInstanceOf(CanceledFailure.class);
    } finally {
      own.close();
    }

    activities.removeLearner(new GroupInput(id, 1));
    activities.evict(new EvictInput(id, wf, "test done"));
    assertThat(cluster.conf(1).listenerIds()).doesNotContain(id);
  }

  private Optional<NodeRecord> nodeRecord(long id) {
    return cluster.metadata().getNodesList().stream().filter(n -> n.getNodeId() == id).findFirst();
  }

  private Optional<JoinRecord> joinRecord(long id) {
    return cluster.metadata().getJoinsList().stream().filter(j -> j.getNodeId() == id).findFirst();
  }

  /** The application failure an activity call ended with. */
  private static ApplicationFailure failure(Executable call) {
    Throwable t = catchThrowable(call::execute);
    assertThat(t).as("activity failure").isInstanceOf(ActivityFailure.class);
    assertThat(t.getCause()).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) t.getCause();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
