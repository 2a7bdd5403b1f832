package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.node.Node;
import io.joinflow.proto.v1.JoinRequest;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeState;
import io.joinflow.security.CertsDir;
import io.joinflow.security.Channels;
import io.joinflow.security.Role;
import io.joinflow.worker.TemporalConnection;
import io.joinflow.worker.TemporalDevServer;
import io.temporal.client.WorkflowExecutionMetadata;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Single-use join tokens and the certificate bootstrap, end to end and secure: a real
 * {@code temporal server start-dev}, a {@code joinflow worker}, a {@code joinflow gateway} whose
 * certificates directory holds the CA key, and {@code joinflow node} processes with mutual TLS.
 * A join with a missing, malformed, wrong, another node's, revoked, expired or used token is
 * refused before any workflow starts and changes nothing; two Joins with one token run one
 * workflow; a compensated join gives its token back and a successful one consumes it; an empty
 * node joins with only its token and the CA's hash, and a wrong hash is refused; no token's
 * secret is in any workflow history, log file or error message.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JoinTokenIT {
  private static final Duration STARTUP = Duration.ofSeconds(90);
  private static final Duration JOIN_ANSWER = Duration.ofMinutes(2);

  private static Path dir;
  private static Path certs;
  private static int base;
  private static TemporalDevServer temporal;
  private static TemporalConnection client;
  private static NodeAdminPool pool;
  private static OperatorTokens tokens;
  private static String caHash;
  private static String clusterId;
  private static JoinflowProcess worker;
  private static final List<JoinflowProcess> processes = new CopyOnWriteArrayList<>();

  /** A failed test shows what every process of the deployment said, since its files go with it. */
  @RegisterExtension
  static final TestWatcher TAILS = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      processes.forEach(p -> System.out.println(p.tail()));
    }
  };
  /** Every token this test made, and every refusal it saw: the secrets must be in none of them. */
  private static final List<String> issued = new CopyOnWriteArrayList<>();
  private static final List<String> refusals = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startDeployment() throws Exception {
    dir = Files.createTempDirectory("joinflow-tokens");
    base = Ports.freeBase(100);
    temporal = TemporalDevServer.start(new TemporalDevServer.Settings(RequiredTool.temporal(), base, base + 2,
        base + 3, base + 4, dir.resolve("temporal.db"), TemporalConnection.DEV_NAMESPACE,
        dir.resolve("temporal.log")), STARTUP);
    client = TemporalConnection.fromEnvironment(temporalEnv(), null);
    certs = dir.resolve("certs");
    String created = cert("create-ca", "--cluster", "tokens", "--json");
    caHash = created.replaceAll("(?s).*\"ca_hash\":\"(sha256:[0-9a-f]{64})\".*", "$1").strip();
    assertThat(caHash).startsWith("sha256:");
    assertThat(cert("ca-hash").strip()).isEqualTo(caHash);
    cert("create-client", "--role", "worker");
    cert("create-client", "--role", "operator");
    cert("create-client", "--role", "gateway", "--host", "127.0.0.1");
    for (long id : new long[] {1, 2, 3, 6, 7}) {
      cert("create-node", "--node-id", String.valueOf(id), "--host", "127.0.0.1");
    }
    JoinflowProcess seed = start("node 1", "node", "--node-id", "1", "--listen", admin(1), "--data-dir",
        dir.resolve("node-1").toString(), "--certs-dir", certs.toString(), "--bootstrap", "--groups", "2");
    assertThat(seed.awaitLine("node 1 ready", STARTUP)).as(seed.tail()).isTrue();
    pool = new NodeAdminPool(List.of(admin(1)), Channels.tls(new CertsDir(certs).identity(Role.WORKER, 0)));
    worker = start("worker", "worker", "--nodes", admin(1), "--temporal", "env", "--certs-dir",
        certs.toString());
    assertThat(worker.awaitLine("worker ready", STARTUP)).as(worker.tail()).isTrue();
    JoinflowProcess gateway = start("gateway", "gateway", "--listen", gatewayAddress(), "--nodes", admin(1),
        "--temporal", "env", "--certs-dir", certs.toString(), "--deadline-seconds", "45", "--fan-out", "1",
        "--stabilization-ms", "0");
    assertThat(gateway.awaitLine("gateway ready", STARTUP)).as(gateway.tail()).isTrue();
    assertThat(gateway.logText()).contains("join tokens required, signs node certificates");
    tokens = new OperatorTokens(gatewayAddress(), certs);
    clusterId = Long.toUnsignedString(pool.metadata().getClusterId());
  }

  @AfterAll
  static void stopDeployment() {
    if (pool != null) {
      pool.close();
    }
    if (client != null) {
      client.close();
    }
    processes.parallelStream().forEach(JoinflowProcess::close);
    if (temporal != null) {
      temporal.close();
    }
    if (dir != null) {
      DevCluster.deleteRecursively(dir);
    }
  }

  @Test
  @Order(1)
  void shouldRefuseJoinsWithoutAUsableTokenBeforeAnyWorkflowStarts() throws Exception {
    MetadataState before = pool.metadata();
    String mine = token(2, "1h");
    String theirs = token(3, "1h");
    String revoked = token(2, "1h");
    assertThat(tokens.run("revoke", OperatorTokens.idOf(revoked)).exit()).isZero();
    String expired = token(2, "1s");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> tokens.state(OperatorTokens.idOf(expired)).equals("expired"));
    String wrongSecret = OperatorTokens.idOf(mine) + ".0000000000000000";

    assertRefused(join(2, null), Status.Code.UNAUTHENTICATED,
        "node 2 has no join token: this gateway admits a node only with one; pass --token from `joinflow token create"
            + " --node-id 2`");
    assertRefused(join(2, "not-a-token"), Status.Code.INVALID_ARGUMENT, "the join token is wrong: a join token is");
    assertRefused(join(2, wrongSecret), Status.Code.PERMISSION_DENIED,
        "the join token is wrong: no token has this id and secret");
    assertRefused(join(2, "zzzzzz.0000000000000000"), Status.Code.PERMISSION_DENIED,
        "the join token is wrong: no token has this id and secret");
    assertRefused(join(2, theirs), Status.Code.PERMISSION_DENIED,
        "join token " + OperatorTokens.idOf(theirs) + " is for node 3, not node 2");
    assertRefused(join(2, revoked), Status.Code.PERMISSION_DENIED,
        "join token " + OperatorTokens.idOf(revoked) + " was revoked");
    assertRefused(join(2, expired), Status.Code.PERMISSION_DENIED,
        "join token " + OperatorTokens.idOf(expired) + " expired at");

    // Nothing changed: group 0 as before, no join workflow of node 2, every token where it was.
    assertThat(pool.metadata()).isEqualTo(before);
    assertThat(runs(2)).isEmpty();
    assertThat(tokens.state(OperatorTokens.idOf(mine))).isEqualTo("issued");
    assertThat(tokens.state(OperatorTokens.idOf(theirs))).isEqualTo("issued");
    assertThat(tokens.state(OperatorTokens.idOf(revoked))).isEqualTo("revoked");
    // An operator sees ids, nodes, states and expiries, never a secret or a hash.
    OperatorTokens.Run list = tokens.run("list", "--json");
    assertThat(list.exit()).isZero();
    assertThat(list.out()).contains(OperatorTokens.idOf(mine)).doesNotContain(secretOf(mine))
        .doesNotContain("sha256");
    // Nodes cannot manage tokens.
    ManagedChannel asNode = nodeChannel(2);
    try {
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> JoinServiceGrpc
          .newBlockingStub(asNode).withDeadlineAfter(10, TimeUnit.SECONDS)
          .createToken(io.joinflow.proto.v1.CreateTokenRequest.newBuilder().setNodeId(2).build()));
      assertThat(e).isNotNull();
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(e.getStatus().getDescription()).contains("needs a certificate of role operator");
    } finally {
      asNode.shutdownNow();
    }
  }

  @Test
  @Order(2)
  void shouldRefuseToBootstrapOrJoinANodeWithAWrongCaHashOrToken() throws Exception {
    MetadataState before = pool.metadata();
    String token = token(5, "1h");
    String otherCa = "sha256:" + "0".repeat(64);
    JoinflowProcess wrongHash = start("node 5 (wrong ca hash)", "node", "--node-id", "5", "--listen", admin(5),
        "--data-dir", dir.resolve("node-5").toString(), "--join", gatewayAddress(), "--token", token,
        "--ca-hash", otherCa);
    assertThat(wrongHash.awaitExit(STARTUP)).as(wrongHash.tail()).isEqualTo(1);
    assertThat(wrongHash.logText()).contains("gateway " + gatewayAddress() + " is not trusted")
        .contains("no CA certificate matching --ca-hash " + otherCa);
    assertThat(dir.resolve("node-5").resolve("certs").resolve("node.5.key")).doesNotExist();

    JoinflowProcess wrongToken = start("node 5 (wrong token)", "node", "--node-id", "5", "--listen", admin(5),
        "--data-dir", dir.resolve("node-5").toString(), "--join", gatewayAddress(),
        "--token", OperatorTokens.idOf(token) + ".0000000000000000", "--ca-hash", caHash);
    assertThat(wrongToken.awaitExit(STARTUP)).as(wrongToken.tail()).isEqualTo(1);
    assertThat(wrongToken.logText()).contains("bootstrap refused by gateway " + gatewayAddress()
        + ": PERMISSION_DENIED the join token is wrong");
    assertThat(dir.resolve("node-5").resolve("certs").resolve("node.5.key")).doesNotExist();

    // A node with a certificate but no token is told where tokens come from.
    JoinflowProcess noToken = start("node 3 (no token)", "node", "--node-id", "3", "--listen", admin(3),
        "--data-dir", dir.resolve("node-3").toString(), "--certs-dir", certs.toString(), "--join", gatewayAddress());
    assertThat(noToken.awaitExit(STARTUP)).as(noToken.tail()).isEqualTo(1);
    assertThat(noToken.logText()).contains("join refused: UNAUTHENTICATED node 3 has no join token")
        .contains("pass --token from `joinflow token create --node-id 3`");

    assertThat(pool.metadata()).isEqualTo(before);
    assertThat(runs(5)).isEmpty();
    assertThat(runs(3)).isEmpty();
    assertThat(tokens.state(OperatorTokens.idOf(token))).isEqualTo("issued");
  }

  @Test
  @Order(3)
  void shouldJoinAnEmptyNodeWithOnlyItsTokenAndTheCaHashAndConsumeTheToken() throws Exception {
    String token = token(4, "1h");
    Path data = dir.resolve("node-4");
    JoinflowProcess node = start("node 4", "node", "--node-id", "4", "--listen", admin(4), "--data-dir",
        data.toString(), "--join", gatewayAddress(), "--token", token, "--ca-hash", caHash);
    assertThat(node.awaitLine("node 4 ready", JOIN_ANSWER)).as(node.tail()).isTrue();
    Path nodeCerts = data.resolve("certs");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(nodeCerts.resolve("node.4.key"))))
        .isEqualTo("rw-------");
    assertThat(nodeCerts.resolve("ca.key")).doesNotExist();
    assertThat(new CertsDir(nodeCerts).identity(Role.NODE, 4).self().cluster()).isEqualTo("tokens");
    assertThat(member(4)).isTrue();
    assertThat(tokens.state(OperatorTokens.idOf(token))).isEqualTo("consumed");
    assertThat(seedLog()).as("consumed with the join's persist step")
        .contains("node 4: join token " + OperatorTokens.idOf(token) + " consumed (join/" + clusterId + "/4)");
    assertThat(awaitRuns(4)).hasSize(1);

    // The token admitted its one join: another Join with it is refused, and starts nothing.
    ManagedChannel asNode4 = Channels.tls(new CertsDir(nodeCerts).identity(Role.NODE, 4))
        .channel("127.0.0.1", base + 1);
    try {
      Status used = refusal(() -> JoinServiceGrpc.newBlockingStub(asNode4).withDeadlineAfter(30, TimeUnit.SECONDS)
          .join(request(4, token).toBuilder().setIncarnation("another-disk").build()));
      assertThat(used.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(used.getDescription()).contains("join token " + OperatorTokens.idOf(token) + " was already used by join/"
          + clusterId + "/4; a token admits one join");
      assertThat(tokens.run("revoke", OperatorTokens.idOf(token)).err()).contains("FAILED_PRECONDITION")
          .contains("already used");
    } finally {
      asNode4.shutdownNow();
    }
    assertThat(runs(4)).hasSize(1);
  }

  @Test
  @Order(4)
  void shouldStartOneWorkflowForTwoConcurrentJoinsWithOneToken() throws Exception {
    JoinflowProcess node = start("node 6", "node", "--node-id", "6", "--listen", admin(6), "--data-dir",
        dir.resolve("node-6").toString(), "--certs-dir", certs.toString());
    assertThat(node.awaitLine("node 6 ready", STARTUP)).as(node.tail()).isTrue();
    String token = token(6, "1h");
    ManagedChannel asNode6 = nodeChannel(6);
    try {
      List<CompletableFuture<JoinResponse>> joins = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        joins.add(CompletableFuture.supplyAsync(() -> JoinServiceGrpc.newBlockingStub(asNode6)
            .withDeadlineAfter(2, TimeUnit.MINUTES).join(request(6, token))));
      }
      JoinResponse first = joins.get(0).get(3, TimeUnit.MINUTES);
      JoinResponse second = joins.get(1).get(3, TimeUnit.MINUTES);
      assertThat(first.getSuccess()).as(first.getError()).isTrue();
      assertThat(second.getRunId()).isEqualTo(first.getRunId());
    } finally {
      asNode6.shutdownNow();
    }
    assertThat(awaitRuns(6)).hasSize(1);
    assertThat(tokens.state(OperatorTokens.idOf(token))).isEqualTo("consumed");
  }

  @Test
  @Order(5)
  void shouldGiveACompensatedJoinsTokenBackAndConsumeItWhenTheJoinSucceeds() throws Exception {
    String token = token(7, "1h");
    String workflowId = "join/" + clusterId + "/7";
    JoinflowProcess node = start("node 7", "node", "--node-id", "7", "--listen", admin(7), "--data-dir",
        dir.resolve("node-7").toString(), "--certs-dir", certs.toString(), "--join", gatewayAddress(),
        "--token", token);
    // Admitted and holding the token, not a learner everywhere yet (one learner addition at a
    // time): a join that can only be compensated once the node is gone.
    await().atMost(JOIN_ANSWER).pollInterval(Duration.ofMillis(5)).until(() -> pool.metadata().getNodesList().stream()
        .anyMatch(n -> n.getNodeId() == 7 && n.getState() == NodeState.JOINING));
    assertThat(node.kill9()).isEqualTo(137);
    assertThat(tokens.state(OperatorTokens.idOf(token))).as("held while the join runs").isEqualTo("in-flight");
    client.client().newUntypedWorkflowStub(workflowId).getResult(JOIN_ANSWER.toSeconds(), TimeUnit.SECONDS,
        Object.class);
    assertThat(member(7)).isFalse();
    assertThat(pool.metadata().getJoinsList()).anySatisfy(j -> {
      assertThat(j.getNodeId()).isEqualTo(7);
      assertThat(j.getOutcome()).startsWith("compensated");
    });
    assertThat(tokens.state(OperatorTokens.idOf(token))).as("given back by the compensation").isEqualTo("issued");
    // By node 1's topology writer, in the entry that evicts node 7 and records the compensation.
    assertThat(seedLog()).as("given back with the eviction").contains("node 7: join token "
        + OperatorTokens.idOf(token) + " usable again (" + workflowId + ")");

    // The same token admits the node once it is back (on a fresh disk).
    JoinflowProcess again = start("node 7 (again)", "node", "--node-id", "7", "--listen", admin(7), "--data-dir",
        dir.resolve("node-7-again").toString(), "--certs-dir", certs.toString(), "--join", gatewayAddress(),
        "--token", token);
    assertThat(again.awaitLine("node 7 ready", JOIN_ANSWER)).as(again.tail()).isTrue();
    assertThat(member(7)).isTrue();
    assertThat(tokens.state(OperatorTokens.idOf(token))).isEqualTo("consumed");
  }

  @Test
  @Order(6)
  void shouldKeepEverySecretOutOfHistoriesLogsAndErrors() throws Exception {
    assertThat(issued).hasSizeGreaterThanOrEqualTo(8);
    List<String> secrets = issued.stream().map(JoinTokenIT::secretOf).toList();
    List<String> histories = new ArrayList<>();
    for (long id : new long[] {4, 6, 7}) {
      for (WorkflowExecutionMetadata run : client.client().listExecutions("WorkflowId='join/" + clusterId + "/" + id
          + "'").toList()) {
        histories.add(client.client().fetchHistory(run.getExecution().getWorkflowId(), run.getExecution().getRunId())
            .toJson(true));
      }
    }
    assertThat(histories).hasSizeGreaterThanOrEqualTo(4);
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    assertThat(files).anyMatch(f -> f.getFileName().toString().equals("temporal.db"));
    for (String secret : secrets) {
      assertThat(histories).as("workflow histories").noneMatch(h -> h.contains(secret));
      assertThat(refusals).as("error messages").noneMatch(r -> r.contains(secret));
      for (Path f : files) {
        assertThat(contains(f, secret)).as("%s holds a token's secret", f).isFalse();
      }
    }
  }

  // ---- helpers ----

  private static String token(long nodeId, String ttl) {
    String t = tokens.create(nodeId, ttl);
    issued.add(t);
    return t;
  }

  private static String secretOf(String token) {
    return token.substring(token.indexOf('.') + 1);
  }

  private static boolean contains(Path file, String text) throws IOException {
    byte[] data = Files.readAllBytes(file);
    byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 0; i + needle.length <= data.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (data[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static JoinRequest request(long id, String token) {
    JoinRequest.Builder b = JoinRequest.newBuilder().setNodeId(id).setListenAddr(admin(id))
        .setWireVersion(Node.WIRE_VERSION);
    return token == null ? b.build() : b.setToken(token).build();
  }

  private static ManagedChannel nodeChannel(long id) throws IOException {
    return Channels.tls(new CertsDir(certs).identity(Role.NODE, id)).channel("127.0.0.1", base + 1);
  }

  /** The refusal of a Join as node {@code id} (with its certificate) presenting {@code token}. */
  private static Status join(long id, String token) throws IOException {
    ManagedChannel ch = nodeChannel(id);
    try {
      return refusal(() -> JoinServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
          .join(request(id, token)));
    } finally {
      ch.shutdownNow();
    }
  }

  private static Status refusal(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      refusals.add(String.valueOf(e.getStatus().getDescription()));
      return e.getStatus();
    }
    throw new AssertionError("the call was not refused");
  }

  private static void assertRefused(Status s, Status.Code code, String description) {
    assertThat(s.getCode()).as(s.getDescription()).isEqualTo(code);
    assertThat(s.getDescription()).contains(description);
  }

  private static List<WorkflowExecutionMetadata> runs(long nodeId) {
    return client.client().listExecutions("WorkflowId='join/" + clusterId + "/" + nodeId + "'").toList();
  }

  /** The node's join runs, once Temporal's visibility lists at least one. */
  private static List<WorkflowExecutionMetadata> awaitRuns(long nodeId) {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> !runs(nodeId).isEmpty());
    return runs(nodeId);
  }

  private static boolean member(long nodeId) {
    return pool.metadata().getNodesList().stream().anyMatch(n -> n.getNodeId() == nodeId
        && (n.getState() == NodeState.LEARNER || n.getState() == NodeState.ACTIVE));
  }

  /** Node 1's log: the worker sends its steps there, and its topology writer settles tokens. */
  private static String seedLog() throws IOException {
    return Files.readString(dir.resolve("node-1").resolve("joinflow.log"));
  }

  private static JoinflowProcess start(String name, String... args) throws IOException {
    JoinflowProcess p = JoinflowProcess.start(name, dir.resolve(name.replaceAll("[^a-z0-9]+", "-") + ".log"),
        temporalEnv(), args);
    processes.add(p);
    return p;
  }

  private static Map<String, String> temporalEnv() {
    return Map.of("TEMPORAL_ADDRESS", "127.0.0.1:" + base, "TEMPORAL_NAMESPACE", TemporalConnection.DEV_NAMESPACE);
  }

  private static String admin(long id) {
    return "127.0.0.1:" + (base + 10 * id);
  }

  private static String gatewayAddress() {
    return "127.0.0.1:" + (base + 1);
  }

  /** Runs {@code joinflow cert ... --certs-dir <certs>} as an operator would; returns what it printed. */
  private static String cert(String... args) {
    List<String> all = new ArrayList<>(List.of("cert"));
    all.addAll(List.of(args));
    all.addAll(List.of("--certs-dir", certs.toString()));
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = Main.commandLine();
    cli.setOut(new java.io.PrintWriter(out, true));
    cli.setErr(new java.io.PrintWriter(err, true));
    assertThat(cli.execute(all.toArray(String[]::new))).as(err.toString()).isZero();
    return out.toString();
  }
}
