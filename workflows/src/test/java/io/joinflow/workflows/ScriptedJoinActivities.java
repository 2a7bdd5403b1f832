package io.joinflow.workflows;

import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Join activities of a healthy cluster with one seed node (id 1) and {@code dataGroups} data
 * groups, answering like the real activities would, plus failures scripted per activity and
 * group. Activities run on several worker threads at once, so the script is thread-safe.
 */
final class ScriptedJoinActivities implements JoinActivities {
  static final long CLUSTER_ID = 0x6a6f696eL;
  static final long SEED = 1;
  static final long NODE = 4;
  static final String NODE_ADDR = "127.0.0.1:7004";
  /** Matches any group (and the steps that have none). */
  static final int ANY_GROUP = -1;

  private final int dataGroups;
  private final Map<String, Failure> script = new ConcurrentHashMap<>();

  ScriptedJoinActivities(int dataGroups) {
    this.dataGroups = dataGroups;
  }

  /** The request of the joining node, with the given options. */
  static JoinInput input(JoinOptions options) {
    return new JoinInput(NODE, NODE_ADDR, 1, CLUSTER_ID, options);
  }

  /**
   * Makes the next {@code times} calls of {@code activity} for {@code group} fail (use
   * {@link Integer#MAX_VALUE} for "every call").
   */
  ScriptedJoinActivities fail(String activity, int group, int times, String type, boolean nonRetryable,
                              String message) {
    script.put(activity + "/" + group, new Failure(new AtomicInteger(times), type, nonRetryable, message));
    return this;
  }

  /** The cluster before the join: the seed is the only voter of every group. */
  ClusterSnapshot before() {
    List<ClusterSnapshot.GroupInfo> groups = new ArrayList<>();
    for (int g = 0; g <= dataGroups; g++) {
      groups.add(new ClusterSnapshot.GroupInfo(g, SEED, List.of(SEED), List.of()));
    }
    return new ClusterSnapshot(CLUSTER_ID, 1, dataGroups,
        List.of(new ClusterSnapshot.NodeInfo(SEED, "127.0.0.1:7001", "ACTIVE", allGroups(), 1)), groups);
  }

  /** The cluster after the join: node 4 is a learner of every group. */
  ClusterSnapshot after() {
    List<ClusterSnapshot.GroupInfo> groups = new ArrayList<>();
    for (int g = 0; g <= dataGroups; g++) {
      groups.add(new ClusterSnapshot.GroupInfo(g, SEED, List.of(SEED), List.of(NODE)));
    }
    return new ClusterSnapshot(CLUSTER_ID, 2, dataGroups, List.of(
        new ClusterSnapshot.NodeInfo(SEED, "127.0.0.1:7001", "ACTIVE", allGroups(), 1),
        new ClusterSnapshot.NodeInfo(NODE, NODE_ADDR, "LEARNER", allGroups(), 1)), groups);
  }

  @Override
  public ValidateResult validate(ValidateInput input) {
    scripted("validate", ANY_GROUP);
    return new ValidateResult(CLUSTER_ID, dataGroups, false, before());
  }

  @Override
  public PeerInfo registerPeer(RegisterInput input) {
    scripted("registerPeer", ANY_GROUP);
    return new PeerInfo("127.0.0.1:7104", "incarnation-1");
  }

  @Override
  public void admit(AdmitInput input) {
    scripted("admit", ANY_GROUP);
  }

  @Override
  public PrepareResult prepare(PrepareInput input) {
    scripted("prepare", ANY_GROUP);
    return new PrepareResult(CLUSTER_ID, dataGroups, false, before(), new PeerInfo("127.0.0.1:7104", "incarnation-1"));
  }

  @Override
  public GroupStep addLearner(GroupInput input) {
    scripted("addLearner", input.groupId());
    return new GroupStep(input.groupId(), SEED, List.of(SEED), List.of(input.nodeId()), true, 0, 0);
  }

  @Override
  public GroupStep awaitLearner(GroupInput input) {
    scripted("awaitLearner", input.groupId());
    return new GroupStep(input.groupId(), SEED, List.of(SEED), List.of(input.nodeId()), false, 42, 42);
  }

  @Override
  public ClusterSnapshot persist(PersistInput input) {
    scripted("persist", ANY_GROUP);
    return after();
  }

  @Override
  public BroadcastResult broadcast(BroadcastInput input) {
    scripted("broadcast", ANY_GROUP);
    return new BroadcastResult(2, List.of(input.nodeId()), List.of());
  }

  @Override
  public FinishResult finish(FinishInput input) {
    scripted("finish", ANY_GROUP);
    return new FinishResult(after(), new BroadcastResult(2, List.of(input.nodeId()), List.of()));
  }

  @Override
  public GroupStep removeLearner(GroupInput input) {
    scripted("removeLearner", input.groupId());
    return new GroupStep(input.groupId(), SEED, List.of(SEED), List.of(), true, 0, 0);
  }

  @Override
  public void evict(EvictInput input) {
    scripted("evict", ANY_GROUP);
  }

  private void scripted(String activity, int group) {
    Failure failure = script.get(activity + "/" + group);
    if (failure == null && group != ANY_GROUP) {
      failure = script.get(activity + "/" + ANY_GROUP);
    }
    if (failure != null && failure.remaining().getAndUpdate(n -> n == Integer.MAX_VALUE || n <= 0 ? n : n - 1) > 0) {
      throw failure.nonRetryable()
          ? ApplicationFailure.newNonRetryableFailure(failure.message(), failure.type())
          : ApplicationFailure.newFailure(failure.message(), failure.type());
    }
  }

  private List<Integer> allGroups() {
    List<Integer> ids = new ArrayList<>();
    for (int g = 0; g <= dataGroups; g++) {
      ids.add(g);
    }
    return ids;
  }

  private record Failure(AtomicInteger remaining, String type, boolean nonRetryable, String message) {}
}
