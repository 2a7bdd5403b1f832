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

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    io.joinflow.security.Channels transport;
    HostPort address;
    List<String> nodes;
    JoinOptions options;
    TemporalChoice choice;
    HostPort metricsAddress;
    try {
      address = HostPort.parse(listen);
      nodes = service.validatedNodes();
      options = service.joinOptions();
      choice = temporalOptions.choose();
      metricsAddress = metricsOptions.address();
      transport = security.channels(io.joinflow.security.Role.GATEWAY, 0, true);
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
          stabilization.promoteOptions(), TemporalChoice.endpoint(temporal));
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
        + (metrics.enabled() ? "; metrics " + metrics.url() : ""));
    spec.commandLine().getOut().flush();
    new CountDownLatch(1).await();
    return 0;
  }
}
