package io.joinflow.cli;

import io.joinflow.activities.JoinActivitiesImpl;
import io.joinflow.activities.MembershipActivitiesImpl;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.worker.JoinWorker;
import io.joinflow.worker.TemporalConnection;
import io.joinflow.workflows.JoinWorkflow;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow worker}: runs join workflows and activities against a Temporal, normally the
 * cluster that TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_*
 * describe. On the in-memory test server sticky execution is off, so a worker that stops never
 * strands a join there; a real server times a stopped worker's sticky queue out by itself.
 */
@Command(name = "worker", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Runs join workflows and activities (Temporal from the TEMPORAL_* environment, or see --temporal).")
public final class WorkerCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

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

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    io.joinflow.security.Channels transport;
    List<String> nodes;
    TemporalChoice choice;
    io.joinflow.proto.HostPort metricsAddress;
    try {
      nodes = service.validatedNodes();
      choice = temporalOptions.choose();
      metricsAddress = metricsOptions.address();
      transport = security.channels(io.joinflow.security.Role.WORKER, 0, true);
    } catch (IllegalArgumentException e) {
      err.println("joinflow worker: " + e.getMessage());
      return 2;
    }
    // Next to the dev server's temporal.log when there is a data dir; a gateway and a worker may share one.
    CommandLog log = logOptions.openService(service.dataDir == null ? null
        : service.dataDir.resolve("joinflow-worker.log"), err);
    if (log.where() != null) {
      spec.commandLine().getOut().println(log.where());
      spec.commandLine().getOut().flush();
    }
    MetricsEndpoint metrics;
    TemporalConnection temporal;
    try {
      metrics = MetricsOptions.start(metricsAddress);
    } catch (java.io.IOException e) {
      err.println("joinflow worker: " + e.getMessage());
      return 1;
    }
    try {
      temporal = service.openTemporal(choice, metrics.temporalScope());
    } catch (IllegalArgumentException e) {
      err.println("joinflow worker: " + e.getMessage());
      metrics.close();
      return 2;
    } catch (Exception e) {
      err.println("joinflow worker: " + e.getMessage());
      metrics.close();
      return 1;
    }
    if (!transport.secure()) {
      err.println("joinflow worker: " + SecurityOptions.insecureWarning("this worker"));
      err.flush();
    }
    NodeAdminPool pool = new NodeAdminPool(nodes, transport);
    JoinWorker worker = new JoinWorker(temporal.client(), new JoinActivitiesImpl(pool), new MembershipActivitiesImpl(pool),
        temporal.isTestServer(), metrics.workerInterceptors()).start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      worker.close();
      pool.close();
      temporal.close();
      metrics.close();
    }, "close-worker"));
    spec.commandLine().getOut().println("worker ready on task queue " + JoinWorkflow.TASK_QUEUE + " (temporal: "
        + temporal.describe() + ")" + (metrics.enabled() ? "; metrics " + metrics.url() : ""));
    spec.commandLine().getOut().flush();
    new CountDownLatch(1).await();
    return 0;
  }
}
