package io.joinflow.node.metrics;

import io.joinflow.node.Node;
import io.joinflow.node.raft.GroupEvents;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.metrics.LeaderElectionMetrics;

/**
 * Per group this node hosts, read from its Ratis division at every scrape (groups come and go
 * as the node joins and leaves them, so the series do too). Labelled by group number only: the
 * node itself is Prometheus' {@code instance}.
 * <ul>
 *   <li>{@code joinflow_raft_group_role{group, role}}: 1 for this division's current role
 *       ({@code leader}, {@code candidate}, {@code follower}, {@code listener}), 0 for the others;
 *   <li>{@code joinflow_raft_term}, {@code joinflow_raft_commit_index},
 *       {@code joinflow_raft_applied_index} {@code {group}};
 *   <li>{@code joinflow_raft_voters}, {@code joinflow_raft_learners} {@code {group}}: the
 *       committed configuration's sizes;
 *   <li>{@code joinflow_raft_learner_lag_entries{group}}: on the group's leader only, how many
 *       committed entries the furthest-behind learner (listener) still lacks; 0 when every
 *       learner caught up or there is none;
 *   <li>{@code joinflow_raft_leader_changes_total}, {@code joinflow_raft_configuration_changes_total}
 *       {@code {group}}: leaders this division learned of and configurations it applied (one per change)
 *       (from the state machine's Ratis events);
 *   <li>{@code joinflow_raft_leader_elections_won_total}, {@code joinflow_raft_election_timeouts_total}
 *       {@code {group}}: read from Ratis' own leader-election metrics of the division;
 *   <li>{@code joinflow_node_groups} and {@code joinflow_node_topology_version}.
 * </ul>
 */
public final class GroupMetrics implements MultiCollector {
  private static final List<RaftPeerRole> ROLES = List.of(RaftPeerRole.LEADER, RaftPeerRole.CANDIDATE,
      RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER);

  private final Node node;

  public GroupMetrics(Node node) {
    this.node = node;
  }

  /** One group's numbers, as this node's division knows them. */
  record GroupSample(int group, RaftPeerRole role, long term, long commitIndex, long appliedIndex, int voters,
                     int learners, long learnerLag, long leaderChanges, long configurationChanges,
                     long electionsWon, long electionTimeouts) {}

  @Override
  public MetricSnapshots collect() {
    List<GroupSample> samples = new ArrayList<>();
    for (int group : node.hostedGroups()) {
      node.division(group).flatMap(d -> sample(group, d)).ifPresent(samples::add);
    }
    List<MetricSnapshot> out = new ArrayList<>(snapshots(samples));
    out.add(gauge("joinflow_node_groups", "Raft groups this node hosts a division of",
        List.of(point(Labels.EMPTY, samples.size()))));
    out.add(gauge("joinflow_node_topology_version", "The newest topology version this node knows",
        List.of(point(Labels.EMPTY, node.localMetadata().getTopologyVersion()))));
    return new MetricSnapshots(out);
  }

  private static Optional<GroupSample> sample(int group, RaftServer.Division d) {
    try {
      RaftPeerRole role = d.getInfo().getCurrentRole();
      long commit = d.getRaftLog().getLastCommittedIndex();
      List<RaftPeer> learners = List.copyOf(d.getRaftConf().getCurrentPeers(RaftPeerRole.LISTENER));
      int voters = d.getRaftConf().getCurrentPeers(RaftPeerRole.FOLLOWER).size();
      long lag = role == RaftPeerRole.LEADER ? learnerLag(commit, learners, d.getCommitInfos()) : 0;
      GroupEvents events = d.getStateMachine() instanceof GroupEvents.Source s ? s.events() : null;
      Optional<RatisMetricRegistry> elections = MetricRegistries.global().get(new MetricRegistryInfo(
          d.getMemberId().toString(), "ratis", LeaderElectionMetrics.RATIS_LEADER_ELECTION_METRICS,
          LeaderElectionMetrics.RATIS_LEADER_ELECTION_METRICS_DESC));
      return Optional.of(new GroupSample(group, role, d.getInfo().getCurrentTerm(), commit,
          d.getInfo().getLastAppliedIndex(), voters, learners.size(), lag,
          events == null ? 0 : events.leaderChanges(), events == null ? 0 : events.configurationChanges(),
          ratisCount(elections, LeaderElectionMetrics.LEADER_ELECTION_COUNT_METRIC),
          ratisCount(elections, LeaderElectionMetrics.LEADER_ELECTION_TIMEOUT_COUNT_METRIC)));
    } catch (RuntimeException e) {
      // A division closing while it is read (the node left the group): no sample this time.
      return Optional.empty();
    }
  }

  /** A counter of the division's own Ratis leader-election metrics (0 before Ratis made them). */
  private static long ratisCount(Optional<RatisMetricRegistry> registry, String counter) {
    return registry.map(r -> r.counter(counter).getCount()).orElse(0L);
  }

  /** Entries the leader committed that the furthest-behind learner has not (0 without learners). */
  static long learnerLag(long leaderCommit, List<RaftPeer> learners, Iterable<CommitInfoProto> commitInfos) {
    Map<RaftPeerId, Long> committed = new LinkedHashMap<>();
    for (CommitInfoProto info : commitInfos) {
      committed.put(RaftPeerId.valueOf(info.getServer().getId()), info.getCommitIndex());
    }
    long lag = 0;
    for (RaftPeer learner : learners) {
      // A learner the leader has no reply from yet has none of the log.
      long theirs = committed.getOrDefault(learner.getId(), 0L);
      lag = Math.max(lag, Math.max(0, leaderCommit - theirs));
    }
    return lag;
  }

  static List<MetricSnapshot> snapshots(List<GroupSample> samples) {
    List<GaugeDataPointSnapshot> roles = new ArrayList<>();
    List<GaugeDataPointSnapshot> terms = new ArrayList<>();
    List<GaugeDataPointSnapshot> commits = new ArrayList<>();
    List<GaugeDataPointSnapshot> applied = new ArrayList<>();
    List<GaugeDataPointSnapshot> voters = new ArrayList<>();
    List<GaugeDataPointSnapshot> learners = new ArrayList<>();
    List<GaugeDataPointSnapshot> lags = new ArrayList<>();
    List<CounterDataPointSnapshot> leaderChanges = new ArrayList<>();
    List<CounterDataPointSnapshot> confChanges = new ArrayList<>();
    List<CounterDataPointSnapshot> electionsWon = new ArrayList<>();
    List<CounterDataPointSnapshot> electionTimeouts = new ArrayList<>();
    for (GroupSample s : samples) {
      Labels group = Labels.of("group", Integer.toString(s.group()));
      for (RaftPeerRole r : ROLES) {
        roles.add(point(Labels.of("group", Integer.toString(s.group()), "role", r.name().toLowerCase()),
            r == s.role() ? 1 : 0));
      }
      terms.add(point(group, s.term()));
      commits.add(point(group, s.commitIndex()));
      applied.add(point(group, s.appliedIndex()));
      voters.add(point(group, s.voters()));
      learners.add(point(group, s.learners()));
      if (s.role() == RaftPeerRole.LEADER) {
        lags.add(point(group, s.learnerLag()));
      }
      leaderChanges.add(CounterDataPointSnapshot.builder().labels(group).value(s.leaderChanges()).build());
      confChanges.add(CounterDataPointSnapshot.builder().labels(group).value(s.configurationChanges()).build());
      electionsWon.add(CounterDataPointSnapshot.builder().labels(group).value(s.electionsWon()).build());
      electionTimeouts.add(CounterDataPointSnapshot.builder().labels(group).value(s.electionTimeouts()).build());
    }
    return List.of(
        gauge("joinflow_raft_group_role", "1 for this node's current role in the group, 0 for the other roles", roles),
        gauge("joinflow_raft_term", "The group's current Raft term as this node knows it", terms),
        gauge("joinflow_raft_commit_index", "The group's commit index as this node knows it", commits),
        gauge("joinflow_raft_applied_index", "The last log index this node's state machine applied for the group",
            applied),
        gauge("joinflow_raft_voters", "Voters in the group's current configuration", voters),
        gauge("joinflow_raft_learners", "Learners (Ratis listeners) in the group's current configuration", learners),
        gauge("joinflow_raft_learner_lag_entries", "On the group's leader: committed entries the furthest-behind"
            + " learner still lacks", lags),
        counter("joinflow_raft_leader_changes", "Leader changes this node's division of the group saw", leaderChanges),
        counter("joinflow_raft_configuration_changes", "Configuration changes this node's division of the group"
            + " applied", confChanges),
        counter("joinflow_raft_leader_elections_won", "Elections this node's division of the group won (Ratis'"
            + " leader_election electionCount)", electionsWon),
        counter("joinflow_raft_election_timeouts", "Election timeouts of this node's division of the group (Ratis'"
            + " leader_election timeoutCount)", electionTimeouts));
  }

  private static GaugeDataPointSnapshot point(Labels labels, double value) {
    return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
  }

  private static GaugeSnapshot gauge(String name, String help, List<GaugeDataPointSnapshot> points) {
    GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
    points.forEach(b::dataPoint);
    return b.build();
  }

  private static CounterSnapshot counter(String name, String help, List<CounterDataPointSnapshot> points) {
    CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
    points.forEach(b::dataPoint);
    return b.build();
  }

  @Override
  public List<String> getPrometheusNames() {
    return List.of("joinflow_raft_group_role", "joinflow_raft_term", "joinflow_raft_commit_index",
        "joinflow_raft_applied_index", "joinflow_raft_voters", "joinflow_raft_learners",
        "joinflow_raft_learner_lag_entries", "joinflow_raft_leader_changes", "joinflow_raft_configuration_changes",
        "joinflow_raft_leader_elections_won", "joinflow_raft_election_timeouts",
        "joinflow_node_groups", "joinflow_node_topology_version");
  }
}
