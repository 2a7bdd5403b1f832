package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GroupView;
import io.joinflow.proto.v1.JoinRecord;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.workflows.JoinOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A joining node in its own OS process ({@code joinflow node --join}) killed with SIGKILL while
 * its join adds it as a learner: the join compensates, nothing of the node stays behind, and
 * the same process started again on the same data dir joins cleanly (W7).
 */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProcessCrashIT {
  private static final long NODE = 9;
  private static CrashCluster cluster;
  private static Path dir;

  @BeforeAll
  static void start() throws Exception {
    cluster = CrashCluster.start(2, new JoinOptions(15_000, 16), line -> System.out.println("[kill-9] " + line));
    dir = Files.createTempDirectory("joinflow-kill9");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
    if (dir != null) {
      DevCluster.deleteRecursively(dir);
    }
  }

  private static Process nodeProcess(Path log) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:MaxDirectMemorySize=256m",
        "-cp", System.getProperty("java.class.path"), "io.joinflow.cli.Main", "node",
        "--node-id", String.valueOf(NODE),
        "--listen", cluster.adminAddress(NODE).toString(),
        "--raft-listen", "127.0.0.1:" + (cluster.adminAddress(NODE).port() + 1),
        "--data-dir", dir.resolve("node").toString(),
        "--groups", "2", "--certs-dir", cluster.certsDirWithNode(NODE).toString(),
        "--join", cluster.gatewayAddress().toString()));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  @Test
  void shouldCompensateAJoinWhoseNodeProcessWasKilledAndLetItJoinAgain() throws Exception {
    String clusterId = Long.toUnsignedString(cluster.view().getClusterId());
    cluster.put("kill9/before", "acknowledged");
    CountDownLatch killed = new CountDownLatch(1);
    Process[] child = new Process[1];
    long[] pid = new long[1];
    cluster.setTrigger(new StepTrigger(NODE, "addLearner", -1, StepTrigger.When.END, hit -> {
      pid[0] = child[0].pid();
      child[0].destroyForcibly();   // SIGKILL: no shutdown hook, no graceful close
      child[0].waitFor(30, TimeUnit.SECONDS);
      killed.countDown();
    }));
    long t0 = System.nanoTime();
    child[0] = nodeProcess(dir.resolve("first.log"));
    assertThat(killed.await(2, TimeUnit.MINUTES)).as(log("first.log")).isTrue();
    assertThat(child[0].exitValue()).as("killed by SIGKILL").isEqualTo(137);
    cluster.setTrigger(null);
    System.out.println("[kill-9] node process " + pid[0] + " killed -9 after its first addLearner committed");

    String workflowId = "join/" + clusterId + "/" + NODE;
    cluster.temporal().client().newUntypedWorkflowStub(workflowId).getResult(3, TimeUnit.MINUTES, Object.class);
    System.out.println("[kill-9] join compensated " + CrashMatrixIT.ms(t0) + " ms after the start");
    ClusterView v = cluster.view();
    JoinRecord record = v.getJoinsList().stream().filter(j -> j.getNodeId() == NODE).findFirst().orElseThrow();
    assertThat(record.getOutcome()).startsWith("compensated");
    // The killed client got no answer; the cluster side of all five invariants must hold.
    assertThat(CrashRun.check(cluster, NODE, null, 0, clusterId, 1)).isEmpty();

    Process again = nodeProcess(dir.resolve("second.log"));
    try {
      long t1 = System.nanoTime();
      String[] last = {""};
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      boolean joined = false;
      while (!joined && System.nanoTime() < deadline && again.isAlive()) {
        ClusterView now = cluster.view();
        NodeRecord n = now.getNodesList().stream().filter(r -> r.getNodeId() == NODE).findFirst().orElse(null);
        joined = n != null && (n.getState() == NodeState.LEARNER || n.getState() == NodeState.ACTIVE)
            && now.getGroupsList().stream().allMatch(g -> member(g, NODE));
        last[0] = String.valueOf(n);
        Thread.sleep(200);
      }
      assertThat(joined).as("rejoined after restart; last %s; log %s", last[0], log("second.log")).isTrue();
      System.out.println("[kill-9] restarted node process rejoined in " + CrashMatrixIT.ms(t1) + " ms");
      cluster.temporal().client().newUntypedWorkflowStub(workflowId).getResult(1, TimeUnit.MINUTES, Object.class);
      assertThat(cluster.runsOf(workflowId)).hasSize(2);
      assertThat(cluster.lostWrites()).isEmpty();
    } finally {
      again.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    cluster.remove(NODE);
  }

  private static boolean member(GroupView g, long id) {
    return g.getVotersList().contains(id) || g.getLearnersList().contains(id);
  }

  /** The end of the process's output and of the node's own log (in its data dir, both runs). */
  private static String log(String name) {
    return last(dir.resolve(name)) + "\n--- node/" + CommandLog.FILE_NAME + " ---\n"
        + last(dir.resolve("node").resolve(CommandLog.FILE_NAME));
  }

  private static String last(Path file) {
    try {
      String all = Files.readString(file);
      return all.length() > 4000 ? all.substring(all.length() - 4000) : all;
    } catch (Exception e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
