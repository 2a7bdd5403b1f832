package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.gateway.JoinGateway;
import io.joinflow.gateway.JoinServiceImpl;
import io.joinflow.gateway.TemporalEndpoint;
import io.joinflow.node.raft.RaftSettings;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinRun;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.Role;
import io.joinflow.proto.v1.ListJoinsRequest;
import io.joinflow.proto.v1.ListJoinsResponse;
import io.joinflow.workflows.JoinOptions;
import io.joinflow.workflows.JoinWorkflowImpl;
import io.joinflow.workflows.LeaveWorkflowImpl;
import io.joinflow.workflows.PromoteOptions;
import io.joinflow.workflows.PromoteWorkflowImpl;
import io.joinflow.worker.TemporalConnection;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.sdk.v1.WorkflowInteractionDefinition;
import io.temporal.api.sdk.v1.WorkflowMetadata;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.testing.WorkflowReplayer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * What joinflow needs of a real Temporal server, tested against the Temporal CLI's dev server:
 * operator calls carry the workflow client's credentials, search attributes are verified (and a
 * namespace without them, or with the wrong type, is refused with the command that fixes it),
 * the server's version is read and checked, Temporal refusing a join reaches the caller as
 * FAILED_PRECONDITION, summaries fit the server's 200 bytes, queries and signals carry their
 * descriptions, ListJoins and {@code joinflow joins} list every run from visibility (succeeded,
 * compensated and rejected ones), {@code joinflow bench} runs on it, and the histories of a
 * real join, a compensated join and a promotion replay against the current workflow code.
 *
 * <p>{@code -Djoinflow.histories.write=true} also writes those three histories as the fixtures
 * {@code workflows/src/test/resources/histories/real-*.json}, which the build replays
 * ({@code RealHistoryReplayTest}); committed fixtures are never rewritten to make a failure go
 * away.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RealTemporalIT {
  static final String WRITE_PROPERTY = "joinflow.histories.write";
  private static final String OPERATOR = "temporal.api.operatorservice.v1.OperatorService";
  private static final String WORKFLOW = "temporal.api.workflowservice.v1.WorkflowService";
  private static final long JOINED = 4;
  private static final long COMPENSATED = 9;
  private static final long DEADLINE_MS = 10_000;

  private static Path temporalBinary;
  private static Path dir;
  private static int base;
  private static DevCluster cluster;
  /** A second dev server whose namespaces lack joinflow's search attributes, or hold them with a wrong type. */
  private static Process bare;
  private static int bareBase;
  private static final AtomicReference<DevCluster> running = new AtomicReference<>();
  private static JoinResponse joined;
  private static JoinResponse compensated;

  @BeforeAll
  static void start() throws Exception {
    temporalBinary = RequiredTool.temporal();
    dir = Files.createTempDirectory("joinflow-real-temporal");
    base = Ports.freeBase(10 * (int) COMPENSATED + 20);
    // The compensated join: its node dies as its first learner is about to be added, and is gone
    // before that addition goes on, so at least that group can never take it; the join undoes
    // it at its deadline. (Killed once a learner was added, a node still closing caught up in
    // every group from the leader's view and the join succeeded.)
    StepTrigger killNine = new StepTrigger(COMPENSATED, "addLearner", -1, StepTrigger.When.START, hit -> {
      DevCluster c = running.get();
      var nine = c.nodes().stream().filter(n -> n.nodeId() == COMPENSATED).findFirst();
      if (nine.isPresent()) {
        c.killNode(nine.get()).get(30, TimeUnit.SECONDS);
      }
    });
    cluster = DevCluster.start(new DevCluster.Settings(1, 2, base, dir.resolve("cluster"),
            new JoinOptions(DEADLINE_MS, 16), RaftSettings.defaults(), new PromoteOptions(0,
            PromoteOptions.DEFAULT_CATCH_UP_DEADLINE_MILLIS, 0, PromoteOptions.DEFAULT_FAN_OUT))
            .withTemporal(TemporalChoice.cli(temporalBinary), true),
        line -> System.out.println("[real-temporal] " + line), killNine);
    running.set(cluster);
    joined = cluster.join(cluster.startNode(JOINED, false), line -> { });
    assertThat(joined.getSuccess()).as(joined.getError()).isTrue();
    compensated = cluster.join(cluster.startNode(COMPENSATED, false), line -> { });
    assertThat(compensated.getSuccess()).isFalse();
    assertThat(compensated.getError()).contains("deadline of " + DEADLINE_MS + " ms passed");

    bareBase = Ports.freeBase(10);
    bare = startBareServer(bareBase);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
    if (bare != null) {
      bare.destroy();
      try {
        if (!bare.waitFor(20, TimeUnit.SECONDS)) {
          bare.destroyForcibly();
        }
      } catch (InterruptedException e) {
        bare.destroyForcibly();
      }
    }
    if (dir != null) {
      DevCluster.deleteRecursively(dir);
    }
  }

  /**
   * A dev server started as an operator might, without joinflow's attributes: namespace
   * {@code bare} has none, namespace {@code wrong} has JoinNodeId as a Keyword.
   */
  private static Process startBareServer(int port) throws Exception {
    Path log = dir.resolve("bare.log");
    Process server = new ProcessBuilder(temporalBinary.toString(), "server", "start-dev", "--ip", "127.0.0.1",
        "--port", String.valueOf(port), "--http-port", String.valueOf(port + 3), "--metrics-port",
        String.valueOf(port + 4), "--headless", "--namespace", "bare", "--namespace", "wrong", "--log-level", "warn")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!TemporalChoice.answers(port)) {
      assertThat(server.isAlive()).as(Files.readString(log)).isTrue();
      assertThat(System.nanoTime()).as("the bare dev server answers within 60 s").isLessThan(deadline);
      Thread.sleep(100);
    }
    Process create = new ProcessBuilder(temporalBinary.toString(), "operator", "search-attribute", "create",
        "--address", "127.0.0.1:" + port, "--namespace", "wrong", "--name", "JoinNodeId", "--type", "Keyword")
        .redirectErrorStream(true).redirectOutput(dir.resolve("create-attribute.log").toFile()).start();
    assertThat(create.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(create.exitValue()).as(Files.readString(dir.resolve("create-attribute.log"))).isZero();
    return server;
  }

  @Test
  void shouldSendTheWorkflowClientsCredentialsAndMetadataWithOperatorCalls() throws Exception {
    try (RecordingProxy proxy = new RecordingProxy("127.0.0.1:" + base)) {
      Map<String, String> env = new HashMap<>();
      env.put("TEMPORAL_ADDRESS", proxy.target());
      env.put("TEMPORAL_NAMESPACE", TemporalConnection.DEV_NAMESPACE);
      env.put("TEMPORAL_API_KEY", "test-key-123");
      // A plaintext proxy: the API key must not force TLS on.
      env.put("TEMPORAL_TLS", "false");
      env.put("TEMPORAL_GRPC_META_X_JOINFLOW_TEAM", "operations");
      try (TemporalConnection c = TemporalConnection.fromEnvironment(env, null)) {
        assertThat(c.mode()).isEqualTo(TemporalConnection.Mode.ENV);
      }
      List<RecordingProxy.Call> operator = proxy.callsOf(OPERATOR);
      assertThat(operator).extracting(RecordingProxy.Call::method)
          .contains(OPERATOR + "/AddSearchAttributes", OPERATOR + "/ListSearchAttributes");
      assertThat(proxy.callsOf(WORKFLOW)).extracting(RecordingProxy.Call::method)
          .contains(WORKFLOW + "/DescribeNamespace", WORKFLOW + "/GetSystemInfo");
      for (RecordingProxy.Call call : proxy.calls()) {
        assertThat(call.header("authorization")).as(call.method()).isEqualTo("Bearer test-key-123");
        assertThat(call.header("x-joinflow-team")).as(call.method()).isEqualTo("operations");
      }
    }
  }

  @Test
  void shouldRefuseANamespaceWithoutTheSearchAttributesItMayNotRegister() throws Exception {
    try (RecordingProxy proxy = new RecordingProxy("127.0.0.1:" + bareBase)) {
      // As Temporal Cloud answers an SDK client that adds search attributes.
      proxy.deny(OPERATOR + "/AddSearchAttributes");
      IOException refused = catchThrowableOfType(IOException.class, () -> TemporalConnection.fromEnvironment(
          Map.of("TEMPORAL_ADDRESS", proxy.target(), "TEMPORAL_NAMESPACE", "bare"), null).close());
      assertThat(refused).isNotNull();
      assertThat(refused.getMessage())
          .contains("search attribute JoinNodeId is not registered on namespace bare")
          .contains("temporal operator search-attribute create --namespace bare --name JoinNodeId --type Int")
          .contains("temporal operator search-attribute create --namespace bare --name JoinPhase --type Keyword");
    }
  }

  @Test
  void shouldRefuseASearchAttributeRegisteredWithAnotherType() {
    IOException refused = catchThrowableOfType(IOException.class, () -> TemporalConnection.fromEnvironment(
        Map.of("TEMPORAL_ADDRESS", "127.0.0.1:" + bareBase, "TEMPORAL_NAMESPACE", "wrong"), null).close());
    assertThat(refused).isNotNull();
    assertThat(refused.getMessage())
        .contains("search attribute JoinNodeId is registered as KEYWORD on namespace wrong but joinflow sets it as Int")
        .contains("temporal operator search-attribute remove --namespace wrong --name JoinNodeId");
  }

  @Test
  void shouldReadAndCheckTheServerVersion() throws Exception {
    Process p = new ProcessBuilder(temporalBinary.toString(), "--version").redirectErrorStream(true).start();
    String version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.SECONDS);
    TemporalConnection t = cluster.temporal();
    assertThat(t.serverVersion()).matches("\\d+\\.\\d+\\.\\d+.*");
    assertThat(version).as("temporal --version").contains("Server " + t.serverVersion());
    assertThat(t.isTestServer()).isFalse();
    assertThat(t.listsWorkflows()).isTrue();
    assertThat(t.describe()).startsWith("cli (Temporal dev server " + t.serverVersion() + " on 127.0.0.1:" + base);
  }

  @Test
  void shouldAnswerFailedPreconditionWhenTemporalRefusesToStartTheJoin() throws Exception {
    // A gateway whose namespace lacks the search attributes every join sets: a misconfigured
    // deployment that skipped the worker's and gateway's startup check.
    WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget("127.0.0.1:" + bareBase).build());
    WorkflowClient client = WorkflowClient.newInstance(stubs, WorkflowClientOptions.newBuilder().setNamespace("bare")
        .build());
    int gatewayPort = Ports.freeBase(1);
    NodeAdminPool pool = new NodeAdminPool(List.of(cluster.nodes().get(0).config().listen().toString()),
        cluster.channels(Role.GATEWAY));
    JoinGateway gateway = JoinGateway.start(new HostPort("127.0.0.1", gatewayPort), new JoinServiceImpl(client,
        new PoolClusterViews(pool), JoinOptions.defaults(), PromoteOptions.defaults(),
        new TemporalEndpoint("env", "127.0.0.1:" + bareBase, "bare", null, true)), List.of(),
        cluster.channels(Role.GATEWAY));
    ManagedChannel channel = cluster.nodeChannels(77).channel("127.0.0.1", gatewayPort);
    try {
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> JoinServiceGrpc
          .newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .join(JoinRequest.newBuilder().setNodeId(77).setListenAddr("127.0.0.1:" + (base + 770)).setWireVersion(1)
              .build()));
      assertThat(e).isNotNull();
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      assertThat(e.getStatus().getDescription())
          .contains("Temporal refused to start the join workflow join/")
          .contains("INVALID_ARGUMENT")
          .contains("search attribute")
          .contains("temporal operator search-attribute create");
    } finally {
      channel.shutdownNow();
      gateway.close();
      pool.close();
      stubs.shutdownNow();
    }
  }

  @Test
  void shouldKeepSummariesWithinTwoHundredBytesWithTheCanonicalAddress() throws Exception {
    try (GatewayCallers callers = new GatewayCallers(cluster)) {
      // A leading zero and spaces: the summary carries the canonical form.
      String sloppy = " 127.0.0.1:0" + (base + 400) + " ";
      String canonical = "127.0.0.1:" + (base + 400);
      String host = "n" + "a".repeat(60) + "." + "b".repeat(60) + "." + "c".repeat(60) + ".invalid";
      for (String[] c : new String[][] {{"40", sloppy, canonical}, {"41", host + ":7000", host + ":7000"}}) {
        long nodeId = Long.parseLong(c[0]);
        try {
          callers.asNode(nodeId).withDeadlineAfter(60, TimeUnit.SECONDS)
              .join(JoinRequest.newBuilder().setNodeId(nodeId).setListenAddr(c[1]).setWireVersion(1)
                  .setToken(cluster.createToken(nodeId)).build());
        } catch (StatusRuntimeException e) {
          // No node listens there (or the host does not resolve): the join is refused; its
          // workflow and summary exist all the same.
        }
        WorkflowExecutionDescription d = cluster.temporal().client()
            .newUntypedWorkflowStub("join/" + Long.toUnsignedString(cluster.view().getClusterId()) + "/" + nodeId)
            .describe();
        String summary = d.getStaticSummary();
        assertThat(summary.getBytes(StandardCharsets.UTF_8).length).as(summary).isLessThanOrEqualTo(200);
        assertThat(d.getStaticDetails()).contains("`" + c[2] + "`").contains("| node id | " + nodeId + " |");
        if (c[2].length() < 100) {
          assertThat(summary).isEqualTo("join node " + nodeId + " at " + c[2] + " into cluster "
              + Long.toUnsignedString(cluster.view().getClusterId()));
        } else {
          assertThat(summary).startsWith("join node " + nodeId + " at n" + "a".repeat(60)).endsWith("...");
        }
      }
    }
  }

  @Test
  void shouldDescribeQueriesAndSignalsToTheWebUi() throws Exception {
    String clusterId = Long.toUnsignedString(cluster.view().getClusterId());
    // What the Web UI asks a live worker for: the workflow's handlers and their descriptions.
    WorkflowMetadata join = cluster.temporal().client().newUntypedWorkflowStub("join/" + clusterId + "/" + JOINED)
        .query("__temporal_workflow_metadata", WorkflowMetadata.class);
    assertThat(join.getDefinition().getQueryDefinitionsList()).filteredOn(q -> q.getName().equals("progress"))
        .singleElement().extracting(WorkflowInteractionDefinition::getDescription).asString()
        .startsWith("The join's phase (validate, registerPeer, admit, learners,");
    WorkflowMetadata promote = cluster.temporal().client()
        .newUntypedWorkflowStub("promote/" + clusterId + "/" + JOINED)
        .query("__temporal_workflow_metadata", WorkflowMetadata.class);
    assertThat(promote.getDefinition().getSignalDefinitionsList())
        .extracting(WorkflowInteractionDefinition::getName).contains("pause", "resume", "promoteNow");
    assertThat(promote.getDefinition().getSignalDefinitionsList())
        .allSatisfy(s -> assertThat(s.getDescription()).isNotBlank());
    assertThat(promote.getCurrentDetails()).contains("voter");
  }

  @Test
  void shouldListEveryRunFromVisibilityWithItsWebUiLink() throws Exception {
    ManagedChannel channel = cluster.channels(Role.OPERATOR).channel(cluster.gatewayAddress().toString());
    ListJoinsResponse listed;
    try {
      listed = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .listJoins(ListJoinsRequest.getDefaultInstance());
    } finally {
      channel.shutdownNow();
    }
    assertThat(listed.getSource()).isEqualTo("temporal");
    assertThat(listed.getTemporal().getMode()).isEqualTo("cli");
    JoinRun success = run(listed, JOINED);
    assertThat(success.getStatus()).isEqualTo("COMPLETED");
    assertThat(success.getPhase()).isEqualTo("done");
    assertThat(success.getRunId()).isEqualTo(joined.getRunId());
    assertThat(success.getUiUrl()).isEqualTo(joined.getUiUrl()).isNotEmpty();
    JoinRun undone = run(listed, COMPENSATED);
    assertThat(undone.getPhase()).isEqualTo("compensated");
    assertThat(undone.getClosedAtMillis()).isGreaterThanOrEqualTo(undone.getStartedAtMillis());

    // The same through the command an operator runs.
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute("joins", "--gateway", cluster.gatewayAddress().toString(), "--certs-dir",
        cluster.certsDir().toString(), "--json")).as(err.toString()).isZero();
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertThat(json.get("temporal_mode").asText()).isEqualTo("cli");
    assertThat(json.get("source").asText()).isEqualTo("temporal");
    assertThat(json.get("ui_url").asText()).isEqualTo("http://127.0.0.1:" + (base + 2));
    assertThat(json.get("runs").findValuesAsText("phase")).contains("done", "compensated");
    assertThat(json.get("runs").findValuesAsText("ui_url")).contains(joined.getUiUrl(), compensated.getUiUrl());
  }

  @Test
  void shouldBenchOnTheDevServer(@org.junit.jupiter.api.io.TempDir Path benchDir) throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    Path results = benchDir.resolve("bench.json");
    int exit = cli.execute("bench", "--groups", "1", "--concurrent", "1", "--reps", "1", "--warmup", "0",
        "--jvm-warmup", "0", "--skip-baselines", "--temporal", "cli", "--temporal-cli", temporalBinary.toString(),
        "--port-base", String.valueOf(Ports.freeBase(60)), "--out", results.toString(),
        // in the test's directory, not the temporary data dir the bench leaves its log in
        "--log-file", benchDir.resolve(CommandLog.FILE_NAME).toString());
    assertThat(exit).as(err.toString()).isZero();
    JsonNode json = new ObjectMapper().readTree(results.toFile());
    assertThat(json.get("temporal_mode").asText()).isEqualTo("cli");
    assertThat(json.get("temporal_namespace").asText()).isEqualTo("joinflow");
    assertThat(json.get("temporal_server").asText()).startsWith("cli (Temporal dev server ");
    assertThat(json.get("all_joins_succeeded").asBoolean()).isTrue();
    assertThat(json.get("plan").get("tls").asBoolean()).as("bench measures what joinflow runs: mutual TLS").isTrue();
  }

  @Test
  void aPromotionTheGatewayStartsAfterAJoinTakesTheJoinsMembershipInsteadOfDescribingTheNode() throws Exception {
    String promotion = "promote/" + Long.toUnsignedString(cluster.view().getClusterId()) + "/" + JOINED;
    cluster.temporal().client().newUntypedWorkflowStub(promotion).getResult(2, TimeUnit.MINUTES, Object.class);
    List<String> scheduled = cluster.temporal().client().fetchHistory(promotion).getEvents().stream()
        .filter(HistoryEvent::hasActivityTaskScheduledEventAttributes)
        .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName()).distinct().toList();
    assertThat(scheduled).doesNotContain("describeMember").contains("settleMember");
  }

  @Test
  void shouldReplayTheRealServersHistoriesOfAJoinACompensatedJoinAndAPromotion() throws Exception {
    String clusterId = Long.toUnsignedString(cluster.view().getClusterId());
    cluster.temporal().client().newUntypedWorkflowStub("promote/" + clusterId + "/" + JOINED)
        .getResult(2, TimeUnit.MINUTES, Object.class);
    // Named after the version of the steps that wrote them, like the in-memory server's fixtures.
    String join = "real-join-v" + JoinWorkflowImpl.STEPS_VERSION;
    Map<String, WorkflowExecutionHistory> histories = Map.of(
        join + "-success.json", cluster.temporal().client().fetchHistory(joined.getWorkflowId(), joined.getRunId()),
        join + "-compensated.json",
        cluster.temporal().client().fetchHistory(compensated.getWorkflowId(), compensated.getRunId()),
        "real-promote-v" + PromoteWorkflowImpl.STEPS_VERSION + "-success.json",
        cluster.temporal().client().fetchHistory("promote/" + clusterId + "/" + JOINED));
    for (var h : histories.entrySet()) {
      // Round-trip through JSON, as the committed fixture is read.
      WorkflowExecutionHistory fromJson = WorkflowExecutionHistory.fromJson(h.getValue().toJson(true));
      WorkflowReplayer.replayWorkflowExecution(fromJson, JoinWorkflowImpl.class, PromoteWorkflowImpl.class,
          LeaveWorkflowImpl.class);
      if (Boolean.getBoolean(WRITE_PROPERTY)) {
        Path fixture = Path.of("..", "workflows", "src", "test", "resources", "histories", h.getKey());
        if (Files.exists(fixture)) {
          // A fixture records what published code did; it is never rewritten.
          System.out.println("[real-temporal] kept " + fixture.getFileName() + " as committed");
          continue;
        }
        Files.writeString(fixture, h.getValue().toJson(true) + "\n");
        System.out.println("[real-temporal] wrote " + fixture.toAbsolutePath().normalize());
      }
    }
  }

  private static JoinRun run(ListJoinsResponse listed, long nodeId) {
    return listed.getRunsList().stream().filter(r -> r.getNodeId() == nodeId).findFirst()
        .orElseThrow(() -> new AssertionError("no run of node " + nodeId + " in " + listed.getRunsList()));
  }
}
