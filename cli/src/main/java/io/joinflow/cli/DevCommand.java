package io.joinflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.joinflow.node.Node;
import io.joinflow.workflows.JoinOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import io.joinflow.gateway.JoinListing;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow dev}: Temporal (the dev server when the Temporal CLI is installed, else the
 * embedded test server), a seed node, nodes 2..N joined through the join workflow, a worker and
 * a gateway, in one process, until interrupted. With {@code --data-dir} everything is durable:
 * started again on the same directory, the cluster and every join's history come back.
 * Every node, the worker and the gateway run mutual TLS with certificates from a throwaway CA
 * in {@code <data dir>/certs} (reused on the next start), unless {@code --insecure}.
 */
@Command(name = "dev", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Runs a local cluster with Temporal, a worker and a gateway until interrupted.")
public final class DevCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

  @Option(names = "--nodes", defaultValue = "3", description = "Cluster nodes to start (default: ${DEFAULT-VALUE}).")
  int nodes;

  @Option(names = "--groups", defaultValue = "8", description = "Data groups (default: ${DEFAULT-VALUE}).")
  int groups;

  @Option(names = "--port-base", defaultValue = "7100",
      description = "Temporal on BASE, gateway on BASE+1, Temporal's Web UI on BASE+2 (and its HTTP API and metrics on"
          + " BASE+3, BASE+4), joinflow's metrics on BASE+5, node i on BASE+10i and BASE+10i+1 (its metrics on"
          + " BASE+10i+2) (default: ${DEFAULT-VALUE}).")
  int portBase;

  @Option(names = "--data-dir", description = "Where nodes and the Temporal dev server keep their data; start dev again"
      + " on the same directory to get the cluster and its join history back (default: a new temporary directory,"
      + " removed on exit).")
  Path dataDir;

  @Mixin
  TemporalOptions temporalOptions = new TemporalOptions();

  @Option(names = "--json", description = "Print the endpoints as one JSON line.")
  boolean json;

  @Option(names = "--insecure", description = "Run every node, the worker and the gateway plaintext, without"
      + " certificates (anyone who reaches a port can change the cluster). Default: mutual TLS with a throwaway CA in"
      + " DATA-DIR/certs.")
  boolean insecure;

  @Option(names = "--metrics-listen", paramLabel = "HOST:PORT|off",
      description = "Where the worker, the gateway and the Temporal SDK of this process serve Prometheus metrics"
          + " (default: 127.0.0.1:BASE+5; node i serves its own on BASE+10i+2); off for none.")
  String metricsListen;

  /**
   * The endpoint of this process's own metrics, or null for {@code off}.
   *
   * @throws IllegalArgumentException with a sentence naming the option
   */
  io.joinflow.proto.HostPort metricsAddress() {
    if (metricsListen == null) {
      return new io.joinflow.proto.HostPort("127.0.0.1", portBase + 5);
    }
    if (metricsListen.trim().equalsIgnoreCase("off")) {
      return null;
    }
    try {
      return io.joinflow.proto.HostPort.parse(metricsListen);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--metrics-listen: " + e.getMessage() + " (or off)", e);
    }
  }

  @Mixin
  LogOptions logOptions = new LogOptions();

  @Mixin
  StabilizationOption stabilization = new StabilizationOption();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (nodes < 1 || groups < 1 || portBase < 1 || portBase + 10 * nodes + 11 > 65535) {
      err.println("joinflow dev: --nodes and --groups must be at least 1 and the ports must fit below 65536");
      return 2;
    }
    TemporalChoice temporal;
    io.joinflow.proto.HostPort metrics;
    try {
      temporal = temporalOptions.choose();
      metrics = metricsAddress();
      if (stabilization.invalid() != null) {
        throw new IllegalArgumentException(stabilization.invalid());
      }
    } catch (IllegalArgumentException e) {
      err.println("joinflow dev: " + e.getMessage());
      return 2;
    }
    boolean temporary = dataDir == null;
    Path dir = temporary ? Files.createTempDirectory("joinflow-dev") : Files.createDirectories(dataDir);
    CommandLog log = logOptions.open(dir.resolve(CommandLog.FILE_NAME), err);
    // The story goes to stdout, unless stdout is for the JSON line.
    PrintWriter story = json ? err : out;
    if (log.where() != null) {
      story.println(log.where());
      story.flush();
    }
    if (insecure) {
      err.println("joinflow dev: " + SecurityOptions.insecureWarning("this dev cluster"));
      err.flush();
    }
    DevCluster cluster;
    try {
      cluster = DevCluster.start(new DevCluster.Settings(nodes, groups, portBase, dir, JoinOptions.defaults())
              .withPromoteOptions(stabilization.promoteOptions()).withTemporal(temporal, true).withMetrics(metrics)
              .withSecure(!insecure),
          line -> {
            story.println(line);
            story.flush();
          });
    } catch (Exception e) {
      err.println("joinflow dev: " + e.getMessage());
      log.close();
      if (temporary) {
        DevCluster.deleteRecursively(dir, log.file().orElse(null));
      }
      return 1;
    }
    // The log stays open to the end: what the other shutdown hooks say belongs in it too.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      cluster.close();
      if (temporary) {
        DevCluster.deleteRecursively(dir, log.file().orElse(null));
      }
    }, "close-dev"));
    if (json) {
      ObjectMapper mapper = new ObjectMapper();
      ObjectNode o = mapper.createObjectNode();
      o.put("gateway", cluster.gatewayAddress().toString());
      o.put("temporal", cluster.temporalTarget());
      TemporalJson.put(o, cluster.temporal());
      o.put("data_dir", dir.toString());
      o.put("tls", cluster.secure());
      if (cluster.secure()) {
        o.put("certs_dir", cluster.certsDir().toString());
        o.put("ca_hash", cluster.caHash());
      } else {
        o.putNull("certs_dir");
        o.putNull("ca_hash");
      }
      cluster.metricsUrls().forEach(o.putArray("metrics_urls")::add);
      if (log.file().isPresent()) {
        o.put("log_file", log.file().get().toString());
      } else {
        o.putNull("log_file");
      }
      ArrayNode ns = o.putArray("nodes");
      for (Node n : cluster.nodes()) {
        ns.addObject().put("node_id", n.nodeId()).put("addr", n.config().listen().toString())
            .put("raft_addr", n.config().raftListen().toString());
      }
      out.println(mapper.writeValueAsString(o));
    } else {
      out.println("joinflow dev ready (Ctrl-C stops it)");
      out.println("  gateway   " + cluster.gatewayAddress());
      out.println("  temporal  " + cluster.temporal().describe());
      cluster.temporal().uiUrl().ifPresent(ui -> out.println("  web ui    " + TemporalChoice.endpoint(cluster.temporal())
          .listUrl(JoinListing.QUERY).orElse(ui)));
      for (Node n : cluster.nodes()) {
        String m = cluster.metricsUrl(n);
        out.println("  node " + n.nodeId() + "    " + n.config().listen() + " (ratis " + n.config().raftListen()
            + (m.isEmpty() ? "" : ", metrics " + m) + ")");
      }
      if (!cluster.metricsUrls().isEmpty()) {
        out.println("  metrics   " + cluster.metricsUrls().get(0) + " (worker, gateway, Temporal SDK)");
      }
      if (cluster.secure()) {
        out.println("  security  mutual TLS on every port; CA " + cluster.caHash() + ", certificates in "
            + cluster.certsDir());
      } else {
        out.println("  security  NONE (--insecure): plaintext, anyone who reaches a port can change the cluster");
      }
      printHowToReach(out, cluster, dir, nodes + 1, metrics != null);
      if (cluster.temporal().listsWorkflows()) {
        out.println("list every join's workflow:");
        out.println("  temporal workflow list --address " + cluster.temporalTarget() + " --namespace "
            + cluster.temporal().namespace() + " --query \"" + JoinListing.QUERY + "\"");
      }
      if (temporary) {
        out.println("(the data dir is temporary; pass --data-dir DIR to keep the cluster and its history)");
      }
    }
    out.flush();
    new CountDownLatch(1).await();
    return 0;
  }

  /**
   * How to look at the running cluster and how to join another node to it, each as the commands
   * to paste: with the operator's and a new node's certificates when the cluster is secure.
   */
  static void printHowToReach(PrintWriter out, DevCluster cluster, Path dir, long next, boolean withMetrics) {
    int portBase = cluster.settings.portBase();
    String certs = cluster.secure() ? " --certs-dir " + cluster.certsDir() : "";
    String insecureFlag = cluster.secure() ? "" : " --insecure";
    out.println("look at it" + (cluster.secure() ? " (as operator, with the certificate in the certs dir)" : "") + ":");
    out.println("  ./joinflow status --target " + cluster.nodes().get(0).config().listen() + certs);
    out.println("  ./joinflow joins --gateway " + cluster.gatewayAddress() + certs);
    String metricsFlag = withMetrics ? " --metrics-listen 127.0.0.1:" + (portBase + 10 * next + 2) : "";
    String node = "  ./joinflow node --node-id " + next + " --listen 127.0.0.1:" + (portBase + 10 * next)
        + " --data-dir " + dir.resolve("node-" + next) + " --join " + cluster.gatewayAddress();
    out.println("join another node from a second terminal:");
    if (!cluster.secure()) {
      out.println(node + insecureFlag + metricsFlag);
      return;
    }
    if (cluster.settings.tokensRequired()) {
      // The kubeadm way: a single-use token, and the CA pinned by its hash; the node makes its
      // own key and gets its certificate from the gateway with the token.
      out.println("  ./joinflow token create --gateway " + cluster.gatewayAddress() + certs + " --node-id " + next);
      out.println(node + " --token <the token printed> --ca-hash " + cluster.caHash() + metricsFlag);
    } else {
      out.println("  ./joinflow cert create-node" + certs + " --node-id " + next + " --host 127.0.0.1");
      out.println(node + certs + metricsFlag);
    }
  }
}
