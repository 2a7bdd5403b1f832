package io.joinflow.cli;

import io.joinflow.activities.NodeAdminPool;
import io.joinflow.gateway.JoinGateway;
import io.joinflow.gateway.JoinServiceImpl;
import io.joinflow.proto.HostPort;
import io.joinflow.worker.TemporalConnection;
import io.joinflow.workflows.JoinOptions;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code joinflow gateway}: serves JoinService (Temporal from the TEMPORAL_* environment, or see --temporal). */
@Command(name = "gateway", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Serves JoinService: starts or attaches join workflows (Temporal from the TEMPORAL_* environment,"
        + " or see --temporal).")
public final class GatewayCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

  @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "JoinService address.")
  String listen;

  @Mixin
  ServiceOptions service = new ServiceOptions();

  @Mixin
  TemporalOptions temporalOptions = new TemporalOptions();

  @Mixin
  MetricsOptions metricsOptions = new MetricsOptions();

  @Mixin
  LogOptions logOptions = new LogOptions();

  @Mixin
  SecurityOptions security = new SecurityOptions();

  @Mixin
  StabilizationOption stabilization = new StabilizationOption();

  @Option(names = "--join-tokens", paramLabel = "required|optional",
      description = "Whether a Join needs a join token (joinflow token create): required by default with --certs-dir,"
          + " optional (checked when given) with --insecure.")
  String joinTokens;

  /**
   * Tokens are required on a secure gateway unless --join-tokens optional says otherwise; the
   * gateway signs certificates for Bootstrap only when its certificates directory holds ca.key.
   */
  private io.joinflow.gateway.JoinTokenPolicy tokenPolicy(io.joinflow.security.Channels transport) {
    boolean required;
    if (joinTokens == null) {
      required = transport.secure();
    } else if (joinTokens.equals("required") || joinTokens.equals("optional")) {
      required = joinTokens.equals("required");
    } else {
      throw new IllegalArgumentException("--join-tokens must be required or optional, not '" + joinTokens + "'");
    }
    if (!transport.secure()) {
      return new io.joinflow.gateway.JoinTokenPolicy(required, null);
    }
    try {
      return new io.joinflow.gateway.JoinTokenPolicy(required,
          new io.joinflow.security.CertsDir(security.certsDir).caWithKey().orElse(null));
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("--certs-dir " + security.certsDir + ": cannot read the CA key: "
          + e.getMessage());
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    io.joinflow.security.Channels transport;
    HostPort address;
    List<String> nodes;
    JoinOptions options;
    TemporalChoice choice;
    HostPort metricsAddress;
    io.joinflow.gateway.JoinTokenPolicy tokens;
    try {
      address = HostPort.parse(listen);
      nodes = service.validatedNodes();
      options = service.joinOptions();
      choice = temporalOptions.choose();
      metricsAddress = metricsOptions.address();
      transport = security.channels(io.joinflow.security.Role.GATEWAY, 0, true);
      tokens = tokenPolicy(transport);
      if (stabilization.invalid() != null) {
        throw new IllegalArgumentException(stabilization.invalid());
      }
    } catch (IllegalArgumentException e) {
      err.println("joinflow gateway: " + e.getMessage());
      return 2;
    }
    // Next to the dev server's temporal.log when there is a data dir; a gateway and a worker may share one.
    CommandLog log = logOptions.openService(service.dataDir == null ? null
        : service.dataDir.resolve("joinflow-gateway.log"), err);
    if (log.where() != null) {
      spec.commandLine().getOut().println(log.where());
      spec.commandLine().getOut().flush();
    }
    MetricsEndpoint metrics;
    try {
      metrics = MetricsOptions.start(metricsAddress);
    } catch (java.io.IOException e) {
      err.println("joinflow gateway: " + e.getMessage());
      return 1;
    }
    TemporalConnection temporal;
    try {
      temporal = service.openTemporal(choice, metrics.temporalScope());
    } catch (IllegalArgumentException e) {
      err.println("joinflow gateway: " + e.getMessage());
      metrics.close();
      return 2;
    } catch (Exception e) {
      err.println("joinflow gateway: " + e.getMessage());
      metrics.close();
      return 1;
    }
    if (!transport.secure()) {
      err.println("joinflow gateway: " + SecurityOptions.insecureWarning("this gateway"));
      err.flush();
    }
    NodeAdminPool pool = new NodeAdminPool(nodes, transport);
    JoinGateway gateway;
    try {
      JoinServiceImpl joins = new JoinServiceImpl(temporal.client(), new PoolClusterViews(pool), options,
          stabilization.promoteOptions(), TemporalChoice.endpoint(temporal), tokens);
      if (metrics.enabled()) {
        joins.joinsInFlight().bindTo(metrics.registry());
      }
      gateway = JoinGateway.start(address, joins, metrics.grpcInterceptors(), transport);
    } catch (Exception e) {
      err.println("joinflow gateway: " + e.getMessage());
      pool.close();
      temporal.close();
      metrics.close();
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      gateway.close();
      pool.close();
      temporal.close();
      metrics.close();
    }, "close-gateway"));
    spec.commandLine().getOut().println("gateway ready on " + address + " (temporal: " + temporal.describe() + ")"
        + (metrics.enabled() ? "; metrics " + metrics.url() : "") + "; join tokens "
        + (tokens.required() ? "required" : "optional") + (tokens.ca() != null ? ", signs node certificates" : ""));
    spec.commandLine().getOut().flush();
    new CountDownLatch(1).await();
    return 0;
  }
}
