package io.joinflow.cli;

import io.joinflow.node.Node;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.PromotionProgress;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.workflows.JoinOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow demo}: a dev cluster of three, then node 4 joins through the gateway with live
 * per-group progress, then its promotion workflow makes it a voter (progress printed too);
 * prints the cluster and the join's timeline from its workflow history. Nodes 2 and 3 are
 * promoted in the background meanwhile. Every port runs mutual TLS with a throwaway CA in the
 * data dir, unless {@code --insecure}. Exit 0 when node 4 joined and became a voter
 * everywhere, 1 with the reason otherwise.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Starts a 3-node cluster in this process and joins node 4 through a durable workflow.")
public final class DemoCommand implements Callable<Integer> {
  static final long JOINING_NODE = 4;

  @Spec
  private CommandSpec spec;

  @Option(names = "--groups", defaultValue = "8", description = "Data groups (default: ${DEFAULT-VALUE}).")
  int groups;

  @Option(names = "--port-base", defaultValue = "7300",
      description = "Temporal on BASE, gateway on BASE+1, Temporal's Web UI on BASE+2, node i on BASE+10i"
          + " (default: ${DEFAULT-VALUE}).")
  int portBase;

  @Option(names = "--data-dir", description = "Keep the cluster and the join's history here (default: a temporary"
      + " directory, removed at the end); joinflow dev --data-dir DIR shows them again.")
  Path dataDir;

  @Option(names = "--hold", defaultValue = "auto", paramLabel = "WHEN",
      description = "Keep the cluster and the Web UI up at the end until Enter: auto (when the terminal is interactive"
          + " and there is a Web UI), always or never (default: ${DEFAULT-VALUE}).")
  String hold;

  @Mixin
  TemporalOptions temporalOptions = new TemporalOptions();

  @Option(names = "--json", description = "End with one JSON line describing the join.")
  boolean json;

  @Option(names = "--insecure", description = "Run the cluster plaintext, without certificates (to compare; anyone"
      + " who reaches a port can change the cluster). Default: mutual TLS with a throwaway CA in the data dir.")
  boolean insecure;

  @Mixin
  LogOptions logOptions = new LogOptions();

  /** The join's steps, as --crash-leader-during names them (their activity types). */
  static final java.util.List<String> STEPS = java.util.List.of("validate", "registerPeer", "admit", "addLearner",
      "awaitLearner", "persist", "broadcast");

  @Option(names = "--crash-leader-during", paramLabel = "STEP",
      description = "Kill the node leading group 0 while node 4's join runs STEP (validate, registerPeer, admit,"
          + " addLearner, awaitLearner, persist or broadcast), then start it again once the join answered."
          + " Waits for nodes 2 and 3 to vote in every group first, so the cluster survives the crash.")
  String crashDuring;

  @Mixin
  StabilizationOption stabilization = new StabilizationOption();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (groups < 1 || groups > 1024) {
      err.println("joinflow demo: --groups must be 1..1024");
      return 2;
    }
    if (crashDuring != null && !STEPS.contains(crashDuring)) {
      err.println("joinflow demo: --crash-leader-during must be one of " + String.join(", ", STEPS)
          + ", not '" + crashDuring + "'");
      return 2;
    }
    if (!java.util.List.of("auto", "always", "never").contains(hold)) {
      err.println("joinflow demo: --hold must be auto, always or never, not '" + hold + "'");
      return 2;
    }
    TemporalChoice temporal;
    try {
      temporal = temporalOptions.choose();
      if (stabilization.invalid() != null) {
        throw new IllegalArgumentException(stabilization.invalid());
      }
    } catch (IllegalArgumentException e) {
      err.println("joinflow demo: " + e.getMessage());
      return 2;
    }
    boolean temporary = dataDir == null;
    if (!temporary && Files.isDirectory(dataDir.resolve("node-1"))) {
      err.println("joinflow demo: " + dataDir + " holds a cluster already; the demo starts a new one (use joinflow dev"
          + " --data-dir " + dataDir + " to run that one again)");
      return 2;
    }
    Path dir = temporary ? Files.createTempDirectory("joinflow-demo") : Files.createDirectories(dataDir);
    CommandLog log = logOptions.open(dir.resolve(CommandLog.FILE_NAME), err);
    try (log) {
      return run(dir, temporary, temporal, log, out, err);
    } finally {
      if (temporary) {
        // The log outlives the temporary data dir: it is where to look when the demo failed.
        DevCluster.deleteRecursively(dir, log.file().orElse(null));
      }
    }
  }

  /** Waits until the promotions of nodes 2 and 3 are done; null when both made them voters, else what went wrong. */
  private String awaitSetupPromotions(DevCluster cluster, PrintWriter out, long t0) throws InterruptedException {
    long started = System.nanoTime();
    DemoProgress.say(out, t0, "waiting for nodes 2 and 3 to become voters (" + stabilization.stabilizationMs
        + " ms stabilization window each)");
    for (long id = 2; id <= cluster.settings.nodes(); id++) {
      PromotionProgress p = DemoProgress.awaitPromotion(cluster, id, line -> { });
      if (p == null) {
        return "node " + id + "'s promotion did not answer within 2 minutes; see the log";
      }
      if (!p.getDone()) {
        return "node " + id + "'s promotion is still " + p.getPhase() + " after 2 minutes; see the log";
      }
      if (!p.getPhase().equals("done")) {
        return "node " + id + " was not promoted to voter: " + (p.getOutcome().isEmpty() ? p.getPhase() : p.getOutcome());
      }
    }
    DemoProgress.say(out, t0, "nodes 1, 2 and 3 vote in every group ("
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms)");
    return null;
  }

  private int run(Path dir, boolean temporary, TemporalChoice temporal, CommandLog log, PrintWriter out,
                  PrintWriter err) throws Exception {
    long t0 = System.nanoTime();
    if (log.where() != null) {
      DemoProgress.say(out, t0, log.where());
    }
    java.util.concurrent.atomic.AtomicReference<DevCluster> running = new java.util.concurrent.atomic.AtomicReference<>();
    DemoCrash.LeaderCrash crash = crashDuring == null ? null : new DemoCrash.LeaderCrash(running, line -> DemoProgress.say(out, t0, line));
    io.temporal.common.interceptors.WorkerInterceptor[] interceptors = crash == null
        ? new io.temporal.common.interceptors.WorkerInterceptor[0]
        : new io.temporal.common.interceptors.WorkerInterceptor[] {
            new StepStartHook(JOINING_NODE, crashDuring, crash::kill)};
    if (insecure) {
      err.println("joinflow demo: " + SecurityOptions.insecureWarning("the demo's cluster"));
      err.flush();
    }
    DevCluster startedCluster;
    try {
      startedCluster = DevCluster.start(new DevCluster.Settings(3, groups, portBase, dir, JoinOptions.defaults())
          .withPromoteOptions(stabilization.promoteOptions()).withTemporal(temporal, true).withSecure(!insecure), line -> DemoProgress.say(out, t0, line), interceptors);
    } catch (Exception e) {
      err.println("joinflow demo: cannot start the cluster: " + e.getMessage());
      return 1;
    }
    try (DevCluster cluster = startedCluster) {
      running.set(cluster);
      // Node 4 joins a cluster of three voters, as in production: nodes 2 and 3 are promoted
      // first (their promotions change every group's configuration, and a join meanwhile would
      // queue behind them and measure their work as its own).
      String notPromoted = awaitSetupPromotions(cluster, out, t0);
      if (notPromoted != null) {
        err.println("joinflow demo: " + notPromoted);
        return 1;
      }
      if (crash != null) {
        DemoProgress.say(out, t0, "waiting for nodes 2 and 3 to vote in every group, so group 0 survives losing its leader");
        if (!DemoCrash.awaitVoters(cluster, java.util.List.of(1L, 2L, 3L))) {
          err.println("joinflow demo: nodes 2 and 3 did not become voters of every group within 2 minutes");
          return 1;
        }
      }
      Node joining = cluster.startNode(JOINING_NODE, false);
      DemoProgress.say(out, t0, "node 4 started empty on " + joining.config().listen() + "; joining it through the gateway");
      long started = System.nanoTime();
      // When the answer came, not when the progress watch noticed (its last query may be in flight).
      AtomicLong answered = new AtomicLong();
      CompletableFuture<JoinResponse> join = CompletableFuture.supplyAsync(() -> {
        try {
          JoinResponse r = cluster.join(joining, line -> DemoProgress.say(out, t0, line));
          answered.set(System.nanoTime());
          return r;
        } catch (Exception e) {
          throw new IllegalStateException(e.getMessage(), e);
        }
      });
      DemoProgress.watch(cluster, join, out, t0);
      JoinResponse response;
      try {
        response = join.get();
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable cause = e.getCause() instanceof IllegalStateException && e.getCause().getCause() != null
            ? e.getCause().getCause() : e.getCause();
        err.println("joinflow demo: the join failed: " + DemoProgress.describe(cause));
        return 1;
      }
      long joinMs = TimeUnit.NANOSECONDS.toMillis(answered.get() - started);
      if (crash != null) {
        crash.restart(cluster);
      }
      PromotionProgress promotion = null;
      long promoteMs = 0;
      if (response.getSuccess()) {
        long promoteStarted = System.nanoTime();
        promotion = DemoProgress.watchPromotion(cluster, out, t0);
        promoteMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - promoteStarted);
      }
      ClusterView view = cluster.view();
      out.println();
      out.print(ClusterTable.render(view));
      JoinTimeline timeline = JoinTimeline.of(cluster.temporal().client()
          .fetchHistory(response.getWorkflowId(), response.getRunId()).getEvents());
      out.println();
      out.println("timeline of " + response.getWorkflowId() + " (from its workflow history):");
      out.print(timeline.render());
      out.println();
      if (!response.getUiUrl().isEmpty()) {
        out.println("see the join in the Temporal Web UI: " + response.getUiUrl());
      }
      if (response.getSuccess()) {
        out.println("node 4 joined as a learner of all " + view.getGroupsCount() + " groups in " + joinMs + " ms");
      } else {
        out.println("node 4 did not join: " + response.getError());
        if (crash != null) {
          out.println("the join compensated: node 4 is in no group and not in the topology");
        }
      }
      if (crash != null) {
        out.println(crash.killed() == 0
            ? "the join never ran " + crashDuring + ", so no leader was killed"
            : "node " + crash.killed() + " (leader of group 0) was killed during " + crashDuring + " and restarted; "
                + (response.getSuccess() ? "the join still succeeded" : "the join compensated"));
      }
      long voterGroups = view.getGroupsList().stream().filter(g -> g.getVotersList().contains(JOINING_NODE)).count();
      boolean promoted = promotion != null && promotion.getDone() && promotion.getPhase().equals("done");
      if (promotion != null) {
        out.println(promoted
            ? "node 4 became a voter of " + voterGroups + "/" + view.getGroupsCount() + " groups " + promoteMs
                + " ms later: " + stabilization.stabilizationMs + " ms stabilization window (--stabilization-ms), "
                + Math.max(0, promoteMs - stabilization.stabilizationMs) + " ms of work ("
                + promotion.getWorkflowId() + ")"
            : "node 4 was not promoted everywhere: " + (promotion.getOutcome().isEmpty()
                ? "still " + promotion.getPhase() : promotion.getOutcome()));
      }
      if (json) {
        out.println(DemoSummary.summary(response, view, joinMs, timeline, promotion, promoteMs,
            stabilization.stabilizationMs, crash, cluster.temporal(),
            log.file().orElse(null), cluster.secure()));
      }
      out.flush();
      holdUntilEnter(cluster, out, dir, temporary);
      return response.getSuccess() && promoted ? 0 : 1;
    }
  }

  /**
   * Keeps the cluster, and the Web UI with the join's page, up until Enter (or Ctrl-C / end of
   * input) when asked to, or by default when a person is at the terminal and there is a UI.
   */
  private void holdUntilEnter(DevCluster cluster, PrintWriter out, Path dir, boolean temporary) {
    boolean hasUi = cluster.temporal().uiUrl().isPresent();
    boolean wait = switch (hold) {
      case "always" -> true;
      case "never" -> false;
      default -> hasUi && !json && System.console() != null;
    };
    if (!wait) {
      if (hasUi && !json) {
        out.println(temporary ? "the demo's Temporal stops now; keep the history with --data-dir DIR (and see it"
            + " again with joinflow dev --data-dir DIR), or keep it up with --hold always"
            : "the join's history is kept in " + dir + "; joinflow dev --data-dir " + dir + " shows it again");
        out.flush();
      }
      return;
    }
    DevCommand.printHowToReach(out, cluster, dir, cluster.nodes().size() + 1, false);
    out.println("the cluster and " + (hasUi ? "the Web UI (" + cluster.temporal().uiUrl().get() + ")" : "Temporal")
        + " stay up; press Enter to stop them");
    out.flush();
    try {
      while (true) {
        int c = System.in.read();
        if (c == -1 || c == '\n') {
          break;
        }
      }
    } catch (java.io.IOException e) {
      // no input: stop
    }
  }

}
