package io.joinflow.node.admin;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.node.group0.Group0Client;
import io.joinflow.node.raft.MetadataApplier;
import io.joinflow.proto.ClusterViewFacts;
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
import io.joinflow.proto.v1.SetTokenState;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TokenState;
import io.joinflow.proto.v1.TopologyChange;
import io.joinflow.proto.v1.UpsertNode;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group-0 changes a caller outside group 0 may ask for: a join's admit, persist and
 * compensation, and the state changes of promotion and leave. The caller names the step; this
 * class checks it against group 0 and the groups' live configurations and writes the commands,
 * so a worker's certificate lets it take the steps a join takes, not append whatever it likes
 * (a node record in any state, any routing, a removal of a node that still votes).
 *
 * <p>Changes that arrive while another is being written are written together: one writer
 * thread takes every change waiting, reads group 0 and the live configurations once, plans each
 * change on top of the ones before it (a change that does not fit fails alone, with the status
 * group 0 would have answered) and appends them all as one entry, with the routing published
 * once. So simultaneous joins cost one group-0 entry and one view per round, not one each, and
 * no join's persist republishes routing for a neighbour's. Should the combined entry be refused
 * (group 0 changed between the read and the write), each change is appended on its own.
 */
final class TopologyChanges {
  private static final Logger LOG = LoggerFactory.getLogger(TopologyChanges.class);
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

  /**
   * A change's commands, planned against group 0's state and the live configurations.
   *
   * @param written what to log once the commands are in group 0
   */
  private record Plan(List<MetadataCommand> commands, boolean routing, List<String> written) {
    Plan(List<MetadataCommand> commands, boolean routing) {
      this(commands, routing, List.of());
    }

    void logWritten() {
      written.forEach(LOG::info);
    }
  }

  private record Pending(TopologyChange change, CompletableFuture<MetadataResult> result) {}

  /** The longest a caller waits for its round (Ratis' own retries end well before). */
  private static final Duration WAIT = Duration.ofSeconds(60);

  private final Group0Client group0;
  private final Views views;
  private final Clock clock;
  private final ExecutorService writer;
  private final Object lock = new Object();
  // Guarded by lock: the changes waiting for the writer, and whether a round is scheduled.
  private final List<Pending> waiting = new ArrayList<>();
  private boolean scheduled;

  TopologyChanges(Group0Client group0, Views views, Clock clock, String who) {
    this.group0 = group0;
    this.views = views;
    this.clock = clock;
    // One thread, ended when idle (so a stopped node leaves none behind).
    this.writer = new ThreadPoolExecutor(0, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "topology-writes-" + who);
      t.setDaemon(true);
      return t;
    });
  }

  MetadataResult apply(TopologyChange change) throws StatusException {
    if (change.getChangeCase() == TopologyChange.ChangeCase.CHANGE_NOT_SET) {
      throw invalid("admit, set_member or evict is required");
    }
    Pending mine = new Pending(change, new CompletableFuture<>());
    synchronized (lock) {
      waiting.add(mine);
      if (!scheduled) {
        scheduled = true;
        schedule();
      }
    }
    try {
      return mine.result().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusException se) {
        throw se;
      }
      throw Status.INTERNAL.withDescription("topology change failed: " + e.getCause()).withCause(e.getCause())
          .asException();
    } catch (TimeoutException e) {
      throw Status.UNAVAILABLE.withDescription("group 0 did not take the change within " + WAIT.toSeconds()
          + " s; retry").asException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted while writing to group 0").asException();
    }
  }

  /** Runs a round, or fails every waiting change if the writer refuses it. Under lock. */
  private void schedule() {
    try {
      writer.execute(this::round);
    } catch (RejectedExecutionException e) {
      scheduled = false;
      waiting.forEach(p -> p.result().completeExceptionally(Status.UNAVAILABLE
          .withDescription("this node is stopping; ask another").asException()));
      waiting.clear();
    }
  }

  /** Writes every change waiting; schedules another round for those that arrive meanwhile. */
  private void round() {
    List<Pending> batch;
    synchronized (lock) {
      batch = new ArrayList<>(waiting);
      waiting.clear();
    }
    try {
      write(batch);
    } catch (RuntimeException e) {
      batch.forEach(p -> p.result().completeExceptionally(Status.INTERNAL
          .withDescription("topology change failed: " + e).withCause(e).asException()));
    } finally {
      synchronized (lock) {
        if (waiting.isEmpty()) {
          scheduled = false;
        } else {
          schedule();
        }
      }
    }
  }

  private void write(List<Pending> batch) {
    MetadataState state;
    ClusterView view = null;
    try {
      state = group0.read();
      if (batch.stream().anyMatch(p -> p.change().getChangeCase() != TopologyChange.ChangeCase.ADMIT)) {
        view = views.view();
      }
    } catch (StatusException e) {
      batch.forEach(p -> p.result().completeExceptionally(e));
      return;
    }
    List<Pending> accepted = new ArrayList<>();
    List<Plan> plans = new ArrayList<>();
    MetadataState current = state;
    for (Pending p : batch) {
      try {
        Plan plan = plan(p.change(), current, view);
        MetadataApplier.Outcome o = MetadataApplier.apply(current, batchOf(plan.commands()));
        if (!o.ok()) {
          throw Status.fromCodeValue(o.result().getCode()).withDescription(o.result().getMessage()).asException();
        }
        current = o.state();
        accepted.add(p);
        plans.add(plan);
      } catch (StatusException e) {
        p.result().completeExceptionally(e);
      }
    }
    if (accepted.isEmpty()) {
      return;
    }
    Batch.Builder combined = Batch.newBuilder();
    plans.forEach(plan -> combined.addAllCommands(plan.commands()));
    if (plans.stream().anyMatch(Plan::routing)) {
      addRouting(combined, view);
    }
    try {
      MetadataResult r = group0.propose(MetadataCommand.newBuilder().setBatch(combined).build());
      if (accepted.size() > 1) {
        LOG.debug("{} topology changes written as group-0 entry {}", accepted.size(), r.getLogIndex());
      }
      plans.forEach(Plan::logWritten);
      accepted.forEach(p -> p.result().complete(r));
      return;
    } catch (StatusException e) {
      if (accepted.size() == 1) {
        accepted.get(0).result().completeExceptionally(e);
        return;
      }
    }
    // Group 0 moved between the read and the write: each change on its own, as planned.
    for (int i = 0; i < accepted.size(); i++) {
      Batch.Builder alone = Batch.newBuilder().addAllCommands(plans.get(i).commands());
      if (plans.get(i).routing()) {
        addRouting(alone, view);
      }
      try {
        MetadataResult r = group0.propose(MetadataCommand.newBuilder().setBatch(alone).build());
        plans.get(i).logWritten();
        accepted.get(i).result().complete(r);
      } catch (StatusException e) {
        accepted.get(i).result().completeExceptionally(e);
      }
    }
  }

  private Plan plan(TopologyChange change, MetadataState state, ClusterView view) throws StatusException {
    return switch (change.getChangeCase()) {
      case ADMIT -> admit(change.getAdmit(), state);
      case SET_MEMBER -> setMember(change.getSetMember(), state, view);
      case EVICT -> evict(change.getEvict(), state, view);
      case CHANGE_NOT_SET -> throw invalid("admit, set_member or evict is required");
    };
  }

  private Plan admit(AdmitNode a, MetadataState state) throws StatusException {
    requireNodeId(a.getNodeId());
    if (a.getAddr().isEmpty() || a.getRaftAddr().isEmpty() || a.getIncarnation().isEmpty()) {
      throw invalid("node " + id(a.getNodeId()) + " needs addr, raft_addr and incarnation");
    }
    NodeRecord existing = MetadataApplier.findNode(state, a.getNodeId());
    List<MetadataCommand> commands = new ArrayList<>();
    boolean readmit = existing != null && (existing.getState() == NodeState.DECOMMISSIONED
        || !existing.getIncarnation().equals(a.getIncarnation()));
    if (existing == null || !existing.getAddr().equals(a.getAddr()) || readmit) {
      // A different address is refused by group 0 itself, with NodeDB's message. A node that
      // left starts over as JOINING with its current incarnation and raft address, or persist
      // would never mark it a learner and its record would name a data dir that is gone.
      commands.add(MetadataCommand.newBuilder().setUpsertNode(UpsertNode.newBuilder().setNode(
          NodeRecord.newBuilder().setNodeId(a.getNodeId()).setAddr(a.getAddr()).setRaftAddr(a.getRaftAddr())
              .setState(NodeState.JOINING).setIncarnation(a.getIncarnation()).setWireVersion(a.getWireVersion())))
          .build());
    }
    commands.add(joinRecord(a.getNodeId(), a.getWorkflowId(), ADMIT, "").build());
    return new Plan(commands, false);
  }

  private Plan setMember(SetMember s, MetadataState state, ClusterView view) throws StatusException {
    requireNodeId(s.getNodeId());
    if (s.getState() == NodeState.JOINING || s.getState() == NodeState.UNRECOGNIZED) {
      // JOINING (the proto default) is admit's alone: it comes with the join's record.
      throw invalid("state must be LEARNER, ACTIVE, DRAINING or DECOMMISSIONED; a node becomes JOINING only by admit");
    }
    boolean persist = s.hasPersist();
    NodeRecord node = MetadataApplier.findNode(state, s.getNodeId());
    if (node == null) {
      throw persist
          ? Status.FAILED_PRECONDITION.withDescription("node " + id(s.getNodeId())
              + " is not in the topology; admit it before persisting").asException()
          : Status.NOT_FOUND.withDescription("node " + id(s.getNodeId()) + " is not in the topology").asException();
    }
    requireLeaders(view, "routing cannot be refreshed from live configurations");
    if (persist) {
      List<Integer> missing = ClusterViewFacts.missingGroups(view, s.getNodeId());
      if (!missing.isEmpty()) {
        // Persisting now would publish a half-join as done (W1, W5).
        throw Status.FAILED_PRECONDITION.withDescription("node " + id(s.getNodeId())
            + " is not a voter or learner of " + ClusterViewFacts.groups(missing)
            + "; add it everywhere before persisting").asException();
      }
    }
    List<MetadataCommand> commands = new ArrayList<>();
    List<String> written = new ArrayList<>();
    if (node.getState() != s.getState() && (s.getFromCount() == 0 || s.getFromList().contains(node.getState()))) {
      commands.add(MetadataCommand.newBuilder().setSetNodeState(SetNodeState.newBuilder()
          .setNodeId(s.getNodeId()).setState(s.getState())).build());
    }
    if (persist) {
      commands.add(joinRecord(s.getNodeId(), s.getPersist().getWorkflowId(), PERSIST, SUCCEEDED).build());
      // The join is done: its token cannot start another one.
      settleTokens(state, s.getPersist().getWorkflowId(), TokenState.TOKEN_CONSUMED, commands, written);
    }
    return new Plan(commands, true, written);
  }

  private Plan evict(EvictNode e, MetadataState state, ClusterView view) throws StatusException {
    requireNodeId(e.getNodeId());
    List<Integer> still = ClusterViewFacts.memberOf(view, e.getNodeId());
    if (!still.isEmpty()) {
      // Once out of the topology the node cannot be addressed for removal any more: evicting
      // now would leave it an orphan member of these groups (W7).
      requireLeaders(view, "cannot tell whether node " + id(e.getNodeId()) + " is still a member");
      throw Status.FAILED_PRECONDITION.withDescription("node " + id(e.getNodeId())
          + " is still a voter or learner of " + ClusterViewFacts.groups(still)
          + "; remove it from them before evicting it").asException();
    }
    List<MetadataCommand> commands = new ArrayList<>();
    List<String> written = new ArrayList<>();
    commands.add(MetadataCommand.newBuilder().setRemoveNode(RemoveNode.newBuilder().setNodeId(e.getNodeId())).build());
    if (e.hasCompensate()) {
      String reason = e.getReason().isBlank() ? "no reason given" : e.getReason();
      String outcome = "compensated: " + reason;
      if (outcome.length() > MetadataApplier.MAX_OUTCOME_CHARS) {
        // A compensation must not fail for the length of the error that caused it.
        outcome = outcome.substring(0, MetadataApplier.MAX_OUTCOME_CHARS - 1) + "…";
      }
      commands.add(joinRecord(e.getNodeId(), e.getCompensate().getWorkflowId(), COMPENSATED, outcome).build());
      // Undone, so the node may try again with the same token.
      settleTokens(state, e.getCompensate().getWorkflowId(), TokenState.TOKEN_ISSUED, commands, written);
    }
    return new Plan(commands, false, written);
  }

  /**
   * Moves the join tokens {@code workflowId} holds (IN_FLIGHT) on to {@code next}: in the same
   * entry as the join's record, so no reader sees a finished join whose token is still held, or
   * a compensated one whose token cannot admit the node again. None held (a join without a
   * token, or a step taken again) adds nothing.
   */
  private void settleTokens(MetadataState state, String workflowId, TokenState next, List<MetadataCommand> commands,
                            List<String> written) {
    if (workflowId.isEmpty()) {
      return;
    }
    for (TokenRecord t : state.getTokensList()) {
      if (t.getState() == TokenState.TOKEN_IN_FLIGHT && t.getWorkflowId().equals(workflowId)) {
        commands.add(MetadataCommand.newBuilder().setSetTokenState(SetTokenState.newBuilder().setId(t.getId())
            .setExpected(TokenState.TOKEN_IN_FLIGHT).setExpectedWorkflowId(workflowId).setNext(next)
            .setNowMillis(clock.millis())).build());
        written.add("node " + id(t.getNodeId()) + ": join token " + t.getId() + " "
            + (next == TokenState.TOKEN_CONSUMED ? "consumed" : "usable again") + " (" + workflowId + ")");
      }
    }
  }

  private static MetadataCommand batchOf(List<MetadataCommand> commands) {
    return MetadataCommand.newBuilder().setBatch(Batch.newBuilder().addAllCommands(commands)).build();
  }

  /** Publishes every group's live configuration (and leader) as its routing. */
  private static void addRouting(Batch.Builder batch, ClusterView view) {
    for (GroupView g : view.getGroupsList()) {
      batch.addCommands(MetadataCommand.newBuilder().setSetRouting(SetRouting.newBuilder().setRoute(
          GroupRoute.newBuilder().setGroupId(g.getGroupId()).addAllVoters(g.getVotersList())
              .addAllLearners(g.getLearnersList()).setLeaderHint(g.getLeader()))));
    }
  }

  private MetadataCommand.Builder joinRecord(long nodeId, String workflowId, String phase, String outcome) {
    return MetadataCommand.newBuilder().setPutJoinRecord(PutJoinRecord.newBuilder().setRecord(JoinRecord.newBuilder()
        .setNodeId(nodeId).setWorkflowId(workflowId).setPhase(phase).setOutcome(outcome)
        .setUpdatedAtMillis(clock.millis())));
  }

  /**
   * A group without a reachable leader is reported from routing, which may be stale: deciding
   * from it would be a guess, so the caller waits for a leader instead (UNAVAILABLE).
   */
  private static void requireLeaders(ClusterView view, String consequence) throws StatusException {
    List<Integer> leaderless = ClusterViewFacts.leaderless(view.getGroupsList());
    if (!leaderless.isEmpty()) {
      throw Status.UNAVAILABLE.withDescription(ClusterViewFacts.groups(leaderless)
          + " answered without a leader; " + consequence).asException();
    }
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
}
