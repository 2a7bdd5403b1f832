package io.joinflow.cli;

import io.joinflow.proto.HostPort;

import io.joinflow.node.Node;
import io.joinflow.node.NodeConfig;
import io.joinflow.node.NodeStartException;
import io.joinflow.node.raft.RaftSettings;
import io.joinflow.security.TlsIdentity;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow node}: runs one cluster node in the foreground until the JVM is stopped.
 * Exit code 2 for arguments that cannot make a valid {@link NodeConfig}, 1 when the node
 * cannot start; otherwise it does not return.
 */
@Command(name = "node", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Runs a cluster node in the foreground until interrupted.")
public final class NodeCommand implements Callable<Integer> {
  static final String PREFIX = "joinflow node: ";

  /** How the command starts a node; tests substitute one that starts nothing. */
  @FunctionalInterface
  interface Starter {
    Node start(NodeConfig config) throws NodeStartException;
  }

  @Spec
  private CommandSpec spec;

  // Taken as a string: node ids are unsigned 64-bit, which picocli's long converter rejects.
  @Option(names = "--node-id", required = true, paramLabel = "ID",
      description = "Non-zero unsigned 64-bit id of this node.")
  private String nodeId;

  @Option(names = "--listen", required = true, paramLabel = "HOST:PORT",
      description = "NodeAdmin gRPC address; the address other nodes and clients use.")
  private String listen;

  @Option(names = "--raft-listen", paramLabel = "HOST:PORT",
      description = "Ratis server address (default: the --listen host, port + 1).")
  private String raftListen;

  @Option(names = "--data-dir", required = true, paramLabel = "DIR",
      description = "Storage of this node: catalog and Ratis logs.")
  private Path dataDir;

  @Option(names = "--bootstrap",
      description = "Create a new cluster if the data dir is empty (reopen it otherwise).")
  private boolean bootstrap;

  @Option(names = "--groups", paramLabel = "G", defaultValue = "" + NodeConfig.DEFAULT_DATA_GROUPS,
      description = "Number of data groups a bootstrap creates, 1.." + NodeConfig.MAX_DATA_GROUPS
          + " (default: ${DEFAULT-VALUE}).")
  private int groups;

  @Option(names = "--join", split = ",", paramLabel = "GATEWAY",
      description = "Join the cluster through these gateways (HOST:PORT,...) when the data dir belongs to no cluster yet.")
  private java.util.List<String> join = new java.util.ArrayList<>();

  @picocli.CommandLine.Mixin
  MetricsOptions metricsOptions = new MetricsOptions();

  @picocli.CommandLine.Mixin
  LogOptions logOptions = new LogOptions();

  @picocli.CommandLine.Mixin
  SecurityOptions security = new SecurityOptions();

  @Option(names = "--json", description = "Print the join's progress, its result and the ready line as JSON lines.")
  boolean json;

  /** Where a join token may come from besides --token, which other users see in ps. */
  static final String TOKEN_ENV = "JOINFLOW_JOIN_TOKEN";

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:" + TOKEN_ENV + "}",
      description = "Join token from joinflow token create (<id>.<secret>), bound to this --node-id: needed to join"
          + " through a secure gateway. Other users of the machine see it in ps: prefer --token-file or $"
          + TOKEN_ENV + " (the default).")
  String token;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "A file holding the join token (its first line), instead of --token.")
  Path tokenFile;

  @Option(names = "--ca-hash", paramLabel = "sha256:HEX",
      description = "The cluster CA's pin (joinflow cert ca-hash). With --token and --join, a node without a"
          + " certificate gets one from the gateway into --certs-dir (default: <data-dir>/certs).")
  String caHash;

  /** Null: start a real node, with the metrics endpoint's interceptors. */
  private final Starter starter;

  /** The command picocli instantiates: it starts a real node. */
  public NodeCommand() {
    this(null);
  }

  NodeCommand(Starter starter) {
    this.starter = starter;
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    try {
      Integer refused = enrollIfNeeded(err);
      if (refused != null) {
        return refused;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    NodeConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      err.println(PREFIX + e.getMessage());
      err.flush();
      return 2;
    }
    if (bootstrap && !join.isEmpty()) {
      err.println(PREFIX + "--bootstrap creates a cluster and --join joins one; pass only one of them");
      err.flush();
      return 2;
    }
    for (String g : join) {
      try {
        HostPort.parse(g);
      } catch (IllegalArgumentException e) {
        err.println(PREFIX + "--join: " + e.getMessage());
        err.flush();
        return 2;
      }
    }
    HostPort metricsAddress;
    MetricsEndpoint metrics;
    try {
      metricsAddress = metricsOptions.address();
    } catch (IllegalArgumentException e) {
      err.println(PREFIX + e.getMessage());
      err.flush();
      return 2;
    }
    try {
      metrics = MetricsOptions.start(metricsAddress);
    } catch (java.io.IOException e) {
      err.println(PREFIX + e.getMessage());
      err.flush();
      return 1;
    }
    if (!config.secure()) {
      err.println(PREFIX + SecurityOptions.insecureWarning("node " + Long.toUnsignedString(config.nodeId())));
      err.flush();
    }
    CommandLog log = logOptions.open(config.dataDir().resolve(CommandLog.FILE_NAME), err);
    Node node;
    try {
      node = starter == null ? Node.start(config, metrics.grpcInterceptors()) : starter.start(config);
    } catch (NodeStartException e) {
      metrics.close();
      log.close();
      err.println(PREFIX + e.getMessage());
      err.flush();
      return 1;
    }
    if (metrics.enabled()) {
      metrics.registry().getPrometheusRegistry().register(new io.joinflow.node.metrics.GroupMetrics(node));
    }
    PrintWriter out = spec.commandLine().getOut();
    // The log stays open while the node runs; its hook closes the node, whose last words go there too.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      node.close();
      metrics.close();
    }, "close-node"));
    if (log.where() != null && !json) {
      out.println(log.where());
      out.flush();
    }
    if (!join.isEmpty()) {
      JoinReport report = new JoinReport(out, json, node.nodeId(), config.listen().toString(), join);
      try {
        io.joinflow.proto.v1.JoinResponse r;
        try (JoinWatch watch = JoinWatch.start(join, node.nodeId(), JoiningNode.transport(node), report::progress)) {
          // The story on stdout, unless stdout carries JSON lines.
          PrintWriter story = json ? err : out;
          r = JoiningNode.join(node, join, java.time.Duration.ofMinutes(5), line -> {
            story.println(json ? PREFIX + line : line);
            story.flush();
          }, token);
        }
        if (r != null && r.getSuccess()) {
          report.joined(r);
        }
        if (r != null && !r.getSuccess()) {
          err.println(PREFIX + "join failed: " + r.getError());
          err.flush();
          return 1;
        }
      } catch (io.grpc.StatusRuntimeException e) {
        err.println(PREFIX + "join refused: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
        err.flush();
        return 1;
      } catch (io.grpc.StatusException e) {
        err.println(PREFIX + "join failed: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
        err.flush();
        return 1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 1;
      }
    }
    if (json) {
      out.println(JoinReport.ready(node, metrics.url()));
    } else {
      out.println("node " + Long.toUnsignedString(config.nodeId()) + " ready: NodeAdmin " + config.listen()
          + ", Ratis " + config.raftListen() + ", cluster " + Long.toUnsignedString(node.identity().clusterId())
          + (metrics.enabled() ? ", metrics " + metrics.url() : ""));
    }
    // Scripts wait for this line before talking to the node.
    out.flush();
    try {
      // Nothing counts this down: the node runs until the JVM stops; the hook closes it then.
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /**
   * With --ca-hash: the certificates directory defaults to {@code <data-dir>/certs}, and a node
   * that has no certificate there yet gets one from a gateway with its join token before it
   * starts ({@link NodeEnrollment}).
   *
   * @return the exit code when the node must not start, else null
   */
  private Integer enrollIfNeeded(PrintWriter err) throws InterruptedException {
    if (tokenFile != null) {
      if (spec.commandLine().getParseResult().hasMatchedOption("--token")) {
        return usage(err, "the join token comes from --token or from --token-file; pass one of them");
      }
      try {
        token = java.nio.file.Files.readAllLines(tokenFile).stream().findFirst().orElse("").strip();
      } catch (java.io.IOException e) {
        return usage(err, "--token-file " + tokenFile + " cannot be read: " + e.getMessage());
      }
      if (token.isEmpty()) {
        return usage(err, "--token-file " + tokenFile + " holds no token; write the one joinflow token create printed");
      }
    }
    if (token != null && join.isEmpty()) {
      return usage(err, "--token is for joining: pass --join GATEWAY too");
    }
    if (caHash == null) {
      return null;
    }
    io.joinflow.security.CaPin pin;
    long id;
    try {
      pin = io.joinflow.security.CaPin.parse(caHash);
      id = parseNodeId(nodeId);
      address("--listen", listen);
    } catch (IllegalArgumentException e) {
      return usage(err, e.getMessage());
    }
    if (token == null || join.isEmpty()) {
      return usage(err, "--ca-hash fetches a certificate with a join token: pass --token and --join too");
    }
    if (security.insecure) {
      return usage(err, "--ca-hash is for a secure node; it contradicts --insecure");
    }
    if (security.certsDir == null) {
      security.certsDir = dataDir.resolve("certs");
    }
    io.joinflow.security.CertsDir dir = new io.joinflow.security.CertsDir(security.certsDir);
    if (java.nio.file.Files.exists(dir.certificate(io.joinflow.security.Role.NODE, id))) {
      // Issued before (a restart, or by an operator): the join goes on with it.
      return null;
    }
    try {
      NodeEnrollment.enroll(id, HostPort.parse(listen).toString(), join, token, pin, dir, line -> {
        err.println(PREFIX + line);
        err.flush();
      });
    } catch (NodeEnrollment.EnrollmentException e) {
      err.println(PREFIX + e.getMessage());
      err.flush();
      return 1;
    } catch (java.io.IOException e) {
      String reason = e instanceof java.nio.file.FileSystemException f && f.getReason() != null
          ? f.getFile() + ": " + f.getReason() : e.getMessage();
      err.println(PREFIX + "cannot store the certificate: " + reason);
      err.flush();
      return 1;
    }
    return null;
  }

  private static int usage(PrintWriter err, String message) {
    err.println(PREFIX + message);
    err.flush();
    return 2;
  }

  /**
   * The node's configuration from the options.
   *
   * @throws IllegalArgumentException with a sentence saying which option to fix
   */
  NodeConfig config() {
    long id = parseNodeId(nodeId);
    HostPort admin = address("--listen", listen);
    HostPort raft;
    if (raftListen != null) {
      raft = address("--raft-listen", raftListen);
    } else if (admin.port() == 65535) {
      throw new IllegalArgumentException("--listen port 65535 leaves no port + 1 for Ratis; pass --raft-listen");
    } else {
      raft = admin.withPort(admin.port() + 1);
    }
    NodeConfig plain = new NodeConfig(id, admin, raft, dataDir, bootstrap, groups, RaftSettings.defaults());
    TlsIdentity tls = security.node(id);
    return tls == null ? plain : plain.withTls(tls);
  }

  private static long parseNodeId(String text) {
    long id;
    try {
      id = Long.parseUnsignedLong(text.trim());
    } catch (NumberFormatException e) {
      id = 0;
    }
    if (id == 0) {
      throw new IllegalArgumentException("--node-id must be a non-zero unsigned 64-bit integer, not '" + text + "'");
    }
    return id;
  }

  private static HostPort address(String option, String text) {
    try {
      return HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
    }
  }
}
