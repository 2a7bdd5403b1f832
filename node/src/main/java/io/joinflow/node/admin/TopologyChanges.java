package io.joinflow.node.admin;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.node.group0.Group0Client;
import io.joinflow.node.raft.MetadataApplier;
import io.joinflow.proto.v1.AdmitNode;
import io.joinflow.proto.v1.Batch;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.EvictNode;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.PutJoinRecord;
import io.joinflow.proto.v1.RemoveNode;
import io.joinflow.proto.v1.SetMember;
import io.joinflow.proto.v1.SetNodeState;
import io.joinflow.proto.v1.SetRouting;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.proto.v1.UpsertNode;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The group-0 changes a caller outside group 0 may ask for: a join's admit, persist and
 * compensation, and the state changes of promotion and leave. The caller names the step; this
 * class checks it against group 0 and the groups' live configurations and writes the commands,
 * so a worker's certificate lets it take the steps a join takes, not append whatever it likes
 * (a node record in any state, any routing, a removal of a node that still votes). Each change
 * is one all-or-nothing batch.
 */
final class TopologyChanges {
  /** The join record phases this class writes (the workflow's names for its steps). */
  static final String ADMIT = "admit";
  static final String PERSIST = "persist";
  static final String COMPENSATED = "compensated";
  static final String SUCCEEDED = "succeeded";

  /** Group 0 plus every group's live configuration, as GetClusterView answers it. */
  @FunctionalInterface
  interface Views {
    ClusterView view() throws StatusException;
  }

  private final Group0Client group0;
  private final Views views;
  private final Clock clock;

  TopologyChanges(Group0Client group0, Views views, Clock clock) {
    this.group0 = group0;
    this.views = views;
    this.clock = clock;
  }

  MetadataResult apply(TopologyChange change) throws StatusException {
    return switch (change.getChangeCase()) {
      case ADMIT -> admit(change.getAdmit());
      case SET_MEMBER -> setMember(change.getSetMember());
      case EVICT -> evict(change.getEvict());
      case CHANGE_NOT_SET -> throw invalid("admit, set_member or evict is required");
    };
  }

  private MetadataResult admit(AdmitNode a) throws StatusException {
    requireNodeId(a.getNodeId());
    if (a.getAddr().isEmpty() || a.getRaftAddr().isEmpty() || a.getIncarnation().isEmpty()) {
      throw invalid("node " + id(a.getNodeId()) + " needs addr, raft_addr and incarnation");
    }
    NodeRecord existing = MetadataApplier.findNode(group0.read(), a.getNodeId());
    Batch.Builder batch = Batch.newBuilder();
    boolean readmit = existing != null && (existing.getState() == NodeState.DECOMMISSIONED
        || !existing.getIncarnation().equals(a.getIncarnation()));
    if (existing == null || !existing.getAddr().equals(a.getAddr()) || readmit) {
      // A different address is refused by group 0 itself, with NodeDB's message. A node that
      // left starts over as JOINING with its current incarnation and raft address, or persist
      // would never mark it a learner and its record would name a data dir that is gone.
      batch.addCommands(MetadataCommand.newBuilder().setUpsertNode(UpsertNode.newBuilder().setNode(
          NodeRecord.newBuilder().setNodeId(a.getNodeId()).setAddr(a.getAddr()).setRaftAddr(a.getRaftAddr())
              .setState(NodeState.JOINING).setIncarnation(a.getIncarnation()).setWireVersion(a.getWireVersion()))));
    }
    batch.addCommands(joinRecord(a.getNodeId(), a.getWorkflowId(), ADMIT, ""));
    return propose(batch);
  }

  private MetadataResult setMember(SetMember s) throws StatusException {
    requireNodeId(s.getNodeId());
    if (s.getState() == NodeState.JOINING || s.getState() == NodeState.UNRECOGNIZED) {
      // JOINING (the proto default) is admit's alone: it comes with the join's record.
      throw invalid("state must be LEARNER, ACTIVE, DRAINING or DECOMMISSIONED; a node becomes JOINING only by admit");
    }
    boolean persist = s.hasPersist();
    ClusterView view = views.view();
    NodeRecord node = MetadataApplier.findNode(metadataOf(view), s.getNodeId());
    if (node == null) {
      throw persist
          ? Status.FAILED_PRECONDITION.withDescription("node " + id(s.getNodeId())
              + " is not in the topology; admit it before persisting").asException()
          : Status.NOT_FOUND.withDescription("node " + id(s.getNodeId()) + " is not in the topology").asException();
    }
    requireLeaders(view, "routing cannot be refreshed from live configurations");
    if (persist) {
      List<Integer> missing = missingGroups(view, s.getNodeId());
      if (!missing.isEmpty()) {
        // Persisting now would publish a half-join as done (W1, W5).
        throw Status.FAILED_PRECONDITION.withDescription("node " + id(s.getNodeId())
            + " is not a voter or learner of group" + plural(missing) + list(missing)
            + "; add it everywhere before persisting").asException();
      }
    }
    Batch.Builder batch = Batch.newBuilder();
    if (node.getState() != s.getState() && (s.getFromCount() == 0 || s.getFromList().contains(node.getState()))) {
      batch.addCommands(MetadataCommand.newBuilder().setSetNodeState(SetNodeState.newBuilder()
          .setNodeId(s.getNodeId()).setState(s.getState())));
    }
    for (GroupView g : view.getGroupsList()) {
      batch.addCommands(MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder().setRoute(
          GroupRoute.newBuilder().setGroupId(g.getGroupId()).addAllVoters(g.getVotersList())
              .addAllLearners(g.getLearnersList()).setLeaderHint(g.getLeader()))));
    }
    if (persist) {
      batch.addCommands(joinRecord(s.getNodeId(), s.getPersist().getWorkflowId(), PERSIST, SUCCEEDED));
    }
    return propose(batch);
  }

  private MetadataResult evict(EvictNode e) throws StatusException {
    requireNodeId(e.getNodeId());
    ClusterView view = views.view();
    List<Integer> still = new ArrayList<>();
    for (GroupView g : view.getGroupsList()) {
      if (isMember(g, e.getNodeId())) {
        still.add(g.getGroupId());
      }
    }
    if (!still.isEmpty()) {
      // Once out of the topology the node cannot be addressed for removal any more: evicting
      // now would leave it an orphan member of these groups (W7).
      requireLeaders(view, "cannot tell whether node " + id(e.getNodeId()) + " is still a member");
      throw Status.FAILED_PRECONDITION.withDescription("node " + id(e.getNodeId())
          + " is still a voter or learner of group" + plural(still) + list(still)
          + "; remove it from them before evicting it").asException();
    }
    Batch.Builder batch = Batch.newBuilder().addCommands(MetadataCommand.newBuilder()
        .setRemoveNode(RemoveNode.newBuilder().setNodeId(e.getNodeId())));
    if (e.hasCompensate()) {
      String reason = e.getReason().isBlank() ? "no reason given" : e.getReason();
      String outcome = "compensated: " + reason;
      if (outcome.length() > MetadataApplier.MAX_OUTCOME_CHARS) {
        // A compensation must not fail for the length of the error that caused it.
        outcome = outcome.substring(0, MetadataApplier.MAX_OUTCOME_CHARS - 1) + "…";
      }
      batch.addCommands(joinRecord(e.getNodeId(), e.getCompensate().getWorkflowId(), COMPENSATED, outcome));
    }
    return propose(batch);
  }

  private MetadataResult propose(Batch.Builder batch) throws StatusException {
    return group0.propose(MetadataCommand.newBuilder().setBatch(batch).build());
  }

  private MetadataCommand.Builder joinRecord(long nodeId, String workflowId, String phase, String outcome) {
    return MetadataCommand.newBuilder().setPutJoinRecord(PutJoinRecord.newBuilder().setRecord(JoinRecord.newBuilder()
        .setNodeId(nodeId).setWorkflowId(workflowId).setPhase(phase).setOutcome(outcome)
        .setUpdatedAtMillis(clock.millis())));
  }

  private static MetadataState metadataOf(ClusterView view) {
    return MetadataState.newBuilder().addAllNodes(view.getNodesList()).build();
  }

  /**
   * A group without a reachable leader is reported from routing, which may be stale: deciding
   * from it would be a guess, so the caller waits for a leader instead (UNAVAILABLE).
   */
  private static void requireLeaders(ClusterView view, String consequence) throws StatusException {
    List<Integer> leaderless = view.getGroupsList().stream().filter(g -> g.getLeader() == 0)
        .map(GroupView::getGroupId).toList();
    if (!leaderless.isEmpty()) {
      throw Status.UNAVAILABLE.withDescription("group" + plural(leaderless) + list(leaderless)
          + " answered without a leader; " + consequence).asException();
    }
  }

  /** Groups 0..G that do not list the node as voter or learner. */
  private static List<Integer> missingGroups(ClusterView view, long nodeId) {
    List<Integer> missing = new ArrayList<>();
    for (int g = 0; g <= view.getDataGroups(); g++) {
      int group = g;
      boolean member = view.getGroupsList().stream().anyMatch(v -> v.getGroupId() == group && isMember(v, nodeId));
      if (!member) {
        missing.add(g);
      }
    }
    return missing;
  }

  private static boolean isMember(GroupView g, long nodeId) {
    return g.getVotersList().contains(nodeId) || g.getLearnersList().contains(nodeId);
  }

  private static void requireNodeId(long nodeId) throws StatusException {
    if (nodeId == 0) {
      throw invalid("node_id must be non-zero");
    }
  }

  private static StatusException invalid(String description) {
    return Status.INVALID_ARGUMENT.withDescription(description).asException();
  }

  private static String id(long nodeId) {
    return Long.toUnsignedString(nodeId);
  }

  /** " " before one group, "s " before several: "group 3", "groups 1, 2". */
  private static String plural(List<Integer> groups) {
    return groups.size() == 1 ? " " : "s ";
  }

  private static String list(List<Integer> groups) {
    return groups.stream().map(String::valueOf).collect(Collectors.joining(", "));
  }
}
