package io.joinflow.workflows;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;

/**
 * The side effects of a join. Every method is state-based: it reads the current state first
 * and treats a state that already holds as done, so re-running it after a crash, a timeout or a
 * leader change is harmless. Rejections are non-retryable {@code ApplicationFailure}s typed with
 * a {@link JoinFailures} constant; everything transient is {@link JoinFailures#UNAVAILABLE}.
 */
@ActivityInterface
public interface JoinActivities {

  /**
   * Checks the request against the cluster: node id non-zero, address well-formed, wire
   * version supported, no other node with this id or address, the joining node reachable.
   * Pure read. When the node already joined with the same address and incarnation (learner or
   * voter in every group), returns {@code alreadyJoined=true} with the current cluster.
   */
  @ActivityMethod(name = "validate")
  ValidateResult validate(ValidateInput input);

  /**
   * Handshakes with the joining node: it must be empty or already belong to this cluster.
   * Returns its Ratis address and incarnation.
   */
  @ActivityMethod(name = "registerPeer")
  PeerInfo registerPeer(RegisterInput input);

  /** Group 0: the node in topology as JOINING (kept if already further), and its join record. */
  @ActivityMethod(name = "admit")
  void admit(AdmitInput input);

  /**
   * Steps 1 to 3 in one call (steps version 3): {@link #validate}, then, unless the node already
   * joined, {@link #registerPeer} and {@link #admit}, with the same checks and rejections as
   * those three. A rejection comes before anything changed; a retry after a failure re-runs all
   * three, each state-based.
   */
  @ActivityMethod(name = "prepare")
  PrepareResult prepare(PrepareInput input);

  /** Hosts the group's division on the node, then compare-and-sets it in as a learner. */
  @ActivityMethod(name = "addLearner")
  GroupStep addLearner(GroupInput input);

  /**
   * Waits until the learner's log holds the leader's commit index taken when waiting began, as
   * the leader's match index for it shows (or, where the leader is not at hand, the learner's
   * own last entry in the leader's term). Heartbeats while it waits.
   */
  @ActivityMethod(name = "awaitLearner")
  GroupStep awaitLearner(GroupInput input);

  /** Group 0, in one entry: node LEARNER, routing of every group from its live conf, join record. */
  @ActivityMethod(name = "persist")
  ClusterSnapshot persist(PersistInput input);

  /** Pushes the topology to every node outside group 0 and to the joining node. */
  @ActivityMethod(name = "broadcast")
  BroadcastResult broadcast(BroadcastInput input);

  /**
   * Steps 6 and 7 in one call (steps version 3): {@link #persist}, then {@link #broadcast}. A
   * retry persists again (nothing new to write once persisted) and broadcasts again.
   */
  @ActivityMethod(name = "finish")
  FinishResult finish(FinishInput input);

  /** Compensation: removes the node from the group's conf and drops its division. */
  @ActivityMethod(name = "removeLearner")
  GroupStep removeLearner(GroupInput input);

  /** Compensation: removes the node from topology and routing and records why. */
  @ActivityMethod(name = "evict")
  void evict(EvictInput input);

  record ValidateInput(long nodeId, String listenAddr, int wireVersion, long clusterId) {}

  record ValidateResult(long clusterId, int dataGroups, boolean alreadyJoined, ClusterSnapshot current) {}

  record RegisterInput(long nodeId, String listenAddr, long clusterId) {}

  record PeerInfo(String raftAddr, String incarnation) {}

  record AdmitInput(long nodeId, String listenAddr, String raftAddr, String incarnation, int wireVersion,
                    String workflowId) {}

  record PrepareInput(long nodeId, String listenAddr, int wireVersion, long clusterId, String workflowId) {}

  /**
   * What validate found, and, unless the node already joined, the peer that registered.
   *
   * @param peer the node's Ratis address and incarnation; null when {@code alreadyJoined}
   */
  record PrepareResult(long clusterId, int dataGroups, boolean alreadyJoined, ClusterSnapshot current,
                       PeerInfo peer) {}

  record GroupInput(long nodeId, int groupId) {}

  /**
   * A group's membership after a step.
   *
   * @param changed whether this call changed the configuration
   * @param appliedIndex the highest index the learner's log was seen to hold: applied, or
   *     matched in the leader's term (await only)
   * @param targetIndex the index it had to reach (await only)
   */
  record GroupStep(int groupId, long leader, List<Long> voters, List<Long> learners, boolean changed,
                   long appliedIndex, long targetIndex) {}

  record PersistInput(long nodeId, String workflowId) {}

  record BroadcastInput(long nodeId, String listenAddr) {}

  record FinishInput(long nodeId, String listenAddr, String workflowId) {}

  /** The cluster after persisting, and what the broadcast that followed delivered. */
  record FinishResult(ClusterSnapshot persisted, BroadcastResult broadcast) {}

  /** The version pushed, the nodes that acknowledged it, and addresses that stayed unreachable. */
  record BroadcastResult(long version, List<Long> acked, List<String> unreachable) {}

  record EvictInput(long nodeId, String workflowId, String reason) {}
}
