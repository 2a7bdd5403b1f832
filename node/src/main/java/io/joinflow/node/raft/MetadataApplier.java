package io.joinflow.node.raft;

import io.grpc.Status;
import io.joinflow.proto.v1.Bootstrap;
import io.joinflow.proto.v1.GroupRoute;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.proto.v1.SetNodeState;
import io.joinflow.proto.v1.UpsertNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The pure transition function of group 0: (state, command) → (state', result). No I/O, no
 * clock, no randomness, so every member computes the same state from the same log. A command
 * that does not fit the state leaves it unchanged and says why in the result; a command whose
 * effect already holds is reported as applied=false with code OK.
 */
public final class MetadataApplier {
  /**
   * The bounds of group 0's collections and strings. A topology update carries nodes, routing
   * and join records to every node (1 MiB per request): nodes and join records at these bounds
   * take about 840 KB of it, routing a few bytes per member of each group, and in practice
   * (addresses of 20 characters) all of it is far smaller.
   */
  public static final int MAX_NODES = 512;
  public static final int MAX_DATA_GROUPS = 4096;
  /** A host name of 253 characters, brackets, a colon and a port. */
  public static final int MAX_ADDR_CHARS = 262;
  public static final int MAX_INCARNATION_CHARS = 64;
  public static final int MAX_WORKFLOW_ID_CHARS = 256;
  public static final int MAX_PHASE_CHARS = 32;
  public static final int MAX_OUTCOME_CHARS = 512;
  /** Join records of nodes no longer in the topology kept; the oldest beyond are pruned. */
  public static final int MAX_DEAD_JOINS = 128;

  private MetadataApplier() {}

  /** The new state and the outcome of one command. */
  public record Outcome(MetadataState state, MetadataResult result) {
    public boolean ok() {
      return result.getCode() == Status.Code.OK.value();
    }
  }

  public static Outcome apply(MetadataState state, MetadataCommand command) {
    if (command.getCommandCase() != MetadataCommand.CommandCase.BOOTSTRAP && state.getClusterId() == 0) {
      return reject(state, Status.Code.FAILED_PRECONDITION, "the cluster is not bootstrapped yet");
    }
    return switch (command.getCommandCase()) {
      case BOOTSTRAP -> bootstrap(state, command.getBootstrap());
      case UPSERT_NODE -> upsertNode(state, command.getUpsertNode());
      case SET_NODE_STATE -> setNodeState(state, command.getSetNodeState());
      case REMOVE_NODE -> removeNode(state, command.getRemoveNode().getNodeId());
      case SET_ROUTING -> setRouting(state, command.getSetRouting().getRoute());
      case PUT_JOIN_RECORD -> putJoinRecord(state, command.getPutJoinRecord().getRecord());
      case BATCH -> batch(state, command.getBatch().getCommandsList());
      case ISSUE_TOKEN -> TokenApplier.issue(state, command.getIssueToken());
      case SET_TOKEN_STATE -> TokenApplier.setState(state, command.getSetTokenState());
      case COMMAND_NOT_SET -> reject(state, Status.Code.INVALID_ARGUMENT, "empty metadata command");
    };
  }

  private static Outcome bootstrap(MetadataState state, Bootstrap b) {
    if (b.getClusterId() == 0 || b.getDataGroups() < 1 || b.getSeed().getNodeId() == 0) {
      return reject(state, Status.Code.INVALID_ARGUMENT,
          "bootstrap needs a non-zero cluster id, at least one data group and a seed node");
    }
    if (Integer.compareUnsigned(b.getDataGroups(), MAX_DATA_GROUPS) > 0) {
      return reject(state, Status.Code.INVALID_ARGUMENT, "at most " + MAX_DATA_GROUPS + " data groups, not "
          + Integer.toUnsignedString(b.getDataGroups()));
    }
    if (state.getClusterId() == b.getClusterId()) {
      return unchanged(state);
    }
    if (state.getClusterId() != 0) {
      return reject(state, Status.Code.FAILED_PRECONDITION,
          "cluster already bootstrapped with id " + Long.toUnsignedString(state.getClusterId()));
    }
    MetadataState.Builder next = MetadataState.newBuilder()
        .setClusterId(b.getClusterId())
        .setDataGroups(b.getDataGroups())
        .setTopologyVersion(1)
        .addNodes(b.getSeed().toBuilder().setState(NodeState.ACTIVE));
    for (int g = 0; g <= b.getDataGroups(); g++) {
      next.addRouting(GroupRoute.newBuilder().setGroupId(g)
          .addVoters(b.getSeed().getNodeId()).setLeaderHint(b.getSeed().getNodeId()));
    }
    return changed(next.build());
  }

  private static Outcome upsertNode(MetadataState state, UpsertNode u) {
    NodeRecord n = u.getNode();
    if (n.getNodeId() == 0) {
      return reject(state, Status.Code.INVALID_ARGUMENT, "node_id must be non-zero");
    }
    if (n.getAddr().isEmpty() || n.getRaftAddr().isEmpty()) {
      return reject(state, Status.Code.INVALID_ARGUMENT, "node " + n.getNodeId() + " needs addr and raft_addr");
    }
    String tooLong = firstOf(tooLong("addr", n.getAddr(), MAX_ADDR_CHARS),
        tooLong("raft_addr", n.getRaftAddr(), MAX_ADDR_CHARS),
        tooLong("incarnation", n.getIncarnation(), MAX_INCARNATION_CHARS));
    if (tooLong != null) {
      return reject(state, Status.Code.INVALID_ARGUMENT, "node " + Long.toUnsignedString(n.getNodeId()) + ": " + tooLong);
    }
    NodeRecord existing = findNode(state, n.getNodeId());
    if (existing == null && state.getNodesCount() >= MAX_NODES) {
      return reject(state, Status.Code.RESOURCE_EXHAUSTED, "the topology holds " + MAX_NODES
          + " nodes, the most it keeps; let nodes that left be removed before adding more");
    }
    if (existing != null && !existing.getAddr().equals(n.getAddr()) && !u.getReplaceAddress()) {
      return reject(state, Status.Code.ALREADY_EXISTS, "node_id " + Long.toUnsignedString(n.getNodeId())
          + " already registered with different address " + existing.getAddr()
          + " (request: " + n.getAddr() + ")");
    }
    for (NodeRecord other : state.getNodesList()) {
      if (other.getNodeId() != n.getNodeId()
          && (other.getAddr().equals(n.getAddr()) || other.getRaftAddr().equals(n.getRaftAddr()))) {
        return reject(state, Status.Code.ALREADY_EXISTS, "address " + n.getAddr() + " (raft "
            + n.getRaftAddr() + ") is already used by node " + Long.toUnsignedString(other.getNodeId()));
      }
    }
    if (n.equals(existing)) {
      return unchanged(state);
    }
    List<NodeRecord> nodes = new ArrayList<>(state.getNodesList());
    nodes.removeIf(x -> x.getNodeId() == n.getNodeId());
    nodes.add(n);
    nodes.sort(Comparator.comparingLong(NodeRecord::getNodeId));
    return changed(bump(state.toBuilder().clearNodes().addAllNodes(nodes)));
  }

  private static Outcome setNodeState(MetadataState state, SetNodeState s) {
    NodeRecord existing = findNode(state, s.getNodeId());
    if (existing == null) {
      return reject(state, Status.Code.NOT_FOUND, "node " + s.getNodeId() + " is not in the topology");
    }
    if (existing.getState() == s.getState()) {
      return unchanged(state);
    }
    MetadataState.Builder b = state.toBuilder();
    for (int i = 0; i < b.getNodesCount(); i++) {
      if (b.getNodes(i).getNodeId() == s.getNodeId()) {
        b.setNodes(i, existing.toBuilder().setState(s.getState()));
      }
    }
    return changed(bump(b));
  }

  private static Outcome removeNode(MetadataState state, long nodeId) {
    boolean inRouting = state.getRoutingList().stream()
        .anyMatch(r -> r.getVotersList().contains(nodeId) || r.getLearnersList().contains(nodeId));
    if (findNode(state, nodeId) == null && !inRouting) {
      return unchanged(state);
    }
    MetadataState.Builder b = state.toBuilder().clearNodes().clearRouting();
    state.getNodesList().stream().filter(n -> n.getNodeId() != nodeId).forEach(b::addNodes);
    for (GroupRoute r : state.getRoutingList()) {
      GroupRoute.Builder rb = r.toBuilder().clearVoters().clearLearners();
      r.getVotersList().stream().filter(v -> v != nodeId).forEach(rb::addVoters);
      r.getLearnersList().stream().filter(v -> v != nodeId).forEach(rb::addLearners);
      if (rb.getLeaderHint() == nodeId) {
        rb.setLeaderHint(0);
      }
      b.addRouting(rb);
    }
    return changed(bump(b));
  }

  private static Outcome setRouting(MetadataState state, GroupRoute route) {
    if (Integer.compareUnsigned(route.getGroupId(), state.getDataGroups()) > 0) {
      return reject(state, Status.Code.INVALID_ARGUMENT, "group " + Integer.toUnsignedString(route.getGroupId())
          + " does not exist (data groups are 1.." + state.getDataGroups() + ")");
    }
    if (route.getVotersCount() + route.getLearnersCount() > MAX_NODES) {
      return reject(state, Status.Code.INVALID_ARGUMENT, "a route lists at most " + MAX_NODES + " members");
    }
    MetadataState.Builder b = state.toBuilder();
    for (int i = 0; i < b.getRoutingCount(); i++) {
      if (b.getRouting(i).getGroupId() == route.getGroupId()) {
        if (b.getRouting(i).equals(route)) {
          return unchanged(state);
        }
        b.setRouting(i, route);
        return changed(bump(b));
      }
    }
    b.addRouting(route);
    return changed(bump(b));
  }

  private static Outcome putJoinRecord(MetadataState state, JoinRecord record) {
    if (record.getNodeId() == 0) {
      return reject(state, Status.Code.INVALID_ARGUMENT, "join record needs a non-zero node_id");
    }
    String tooLong = firstOf(tooLong("workflow_id", record.getWorkflowId(), MAX_WORKFLOW_ID_CHARS),
        tooLong("phase", record.getPhase(), MAX_PHASE_CHARS),
        tooLong("outcome", record.getOutcome(), MAX_OUTCOME_CHARS));
    if (tooLong != null) {
      return reject(state, Status.Code.INVALID_ARGUMENT, "join record of node "
          + Long.toUnsignedString(record.getNodeId()) + ": " + tooLong);
    }
    MetadataState.Builder b = state.toBuilder();
    for (int i = 0; i < b.getJoinsCount(); i++) {
      if (b.getJoins(i).getNodeId() == record.getNodeId()) {
        if (b.getJoins(i).equals(record)) {
          return unchanged(state);
        }
        b.setJoins(i, record);
        return changed(b.build());
      }
    }
    b.addJoins(record);
    return changed(pruneDeadJoins(b).build());
  }

  /**
   * Keeps the join records of nodes in the topology and the newest {@link #MAX_DEAD_JOINS} of
   * nodes that are not (compensated joins, nodes that left): what an operator asks about.
   */
  private static MetadataState.Builder pruneDeadJoins(MetadataState.Builder b) {
    List<JoinRecord> dead = new ArrayList<>();
    for (JoinRecord j : b.getJoinsList()) {
      if (b.getNodesList().stream().noneMatch(n -> n.getNodeId() == j.getNodeId())) {
        dead.add(j);
      }
    }
    if (dead.size() <= MAX_DEAD_JOINS) {
      return b;
    }
    dead.sort(Comparator.comparingLong(JoinRecord::getUpdatedAtMillis).reversed()
        .thenComparing(JoinRecord::getNodeId, Long::compareUnsigned));
    List<JoinRecord> pruned = dead.subList(MAX_DEAD_JOINS, dead.size());
    List<JoinRecord> kept = b.getJoinsList().stream().filter(j -> !pruned.contains(j)).toList();
    return b.clearJoins().addAllJoins(kept);
  }

  /** "name is N characters, at most M", or null when the value fits. */
  private static String tooLong(String name, String value, int max) {
    return value.length() > max ? name + " is " + value.length() + " characters, at most " + max : null;
  }

  private static String firstOf(String... problems) {
    for (String p : problems) {
      if (p != null) {
        return p;
      }
    }
    return null;
  }

  private static Outcome batch(MetadataState state, List<MetadataCommand> commands) {
    MetadataState next = state;
    boolean changed = false;
    for (MetadataCommand c : commands) {
      if (c.getCommandCase() == MetadataCommand.CommandCase.BATCH
          || c.getCommandCase() == MetadataCommand.CommandCase.BOOTSTRAP) {
        return reject(state, Status.Code.INVALID_ARGUMENT, "a batch cannot hold " + c.getCommandCase());
      }
      Outcome o = apply(next, c);
      if (!o.ok()) {
        return new Outcome(state, o.result().toBuilder().setTopologyVersion(state.getTopologyVersion()).build());
      }
      changed |= o.result().getApplied();
      next = o.state();
    }
    if (!changed) {
      return unchanged(state);
    }
    // One entry is one topology change, however many commands it holds.
    long bumps = next.getTopologyVersion() - state.getTopologyVersion();
    if (bumps > 1) {
      next = next.toBuilder().setTopologyVersion(state.getTopologyVersion() + 1).build();
    }
    return changed(next);
  }

  /** The node with this id, or null. */
  public static NodeRecord findNode(MetadataState state, long nodeId) {
    for (NodeRecord n : state.getNodesList()) {
      if (n.getNodeId() == nodeId) {
        return n;
      }
    }
    return null;
  }

  /** The route of a group, or null. */
  public static GroupRoute findRoute(MetadataState state, int group) {
    for (GroupRoute r : state.getRoutingList()) {
      if (r.getGroupId() == group) {
        return r;
      }
    }
    return null;
  }

  private static MetadataState bump(MetadataState.Builder b) {
    return b.setTopologyVersion(b.getTopologyVersion() + 1).build();
  }

  static Outcome changed(MetadataState next) {
    return new Outcome(next, MetadataResult.newBuilder().setApplied(true)
        .setTopologyVersion(next.getTopologyVersion()).build());
  }

  static Outcome unchanged(MetadataState state) {
    return new Outcome(state, MetadataResult.newBuilder().setApplied(false)
        .setTopologyVersion(state.getTopologyVersion()).build());
  }

  static Outcome reject(MetadataState state, Status.Code code, String message) {
    return new Outcome(state, MetadataResult.newBuilder().setApplied(false).setCode(code.value())
        .setMessage(message).setTopologyVersion(state.getTopologyVersion()).build());
  }
}
