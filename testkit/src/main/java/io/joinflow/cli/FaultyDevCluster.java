package io.joinflow.cli;

import io.joinflow.node.Node;
import io.joinflow.node.NodeStartException;
import io.temporal.common.interceptors.WorkerInterceptor;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * A {@link DevCluster} whose roles a test stops and starts on their own: a node (any id on any
 * port slot), the worker, the gateway and Temporal itself. The product's dev cluster never does
 * this; the durability and hostile-input tests do.
 */
final class FaultyDevCluster extends DevCluster {
  private FaultyDevCluster(Settings settings, WorkerInterceptor[] interceptors) {
    super(settings, interceptors);
  }

  static FaultyDevCluster start(Settings settings, Consumer<String> log) throws Exception {
    return start(settings, log, new WorkerInterceptor[0]);
  }

  static FaultyDevCluster start(Settings settings, Consumer<String> log, WorkerInterceptor... interceptors)
      throws Exception {
    FaultyDevCluster c = new FaultyDevCluster(settings, interceptors);
    try {
      c.startAll(log);
      return c;
    } catch (Exception e) {
      c.close();
      throw e;
    }
  }

  /**
   * Starts node {@code id} on the ports of {@code slot} (any id, e.g. one above 2^63, or a
   * second instance claiming an id already in use) with a data dir of its own.
   */
  Node startNode(long id, int slot, boolean bootstrap) throws NodeStartException {
    return startNodeAt(id, slot, settings.dataDir().resolve("node-" + Long.toUnsignedString(id) + "-slot-" + slot),
        bootstrap);
  }

  /** Stops a started node (its data dir stays; {@link #restartNode} starts it again). */
  void stopNode(Node node) {
    nodes.remove(node);
    node.close();
    closeMetrics(node);
  }

  /** Stops the worker, letting its running tasks finish. */
  void stopWorker() {
    worker.close();
    worker = null;
  }

  /** Stops the gateway; Join calls waiting for their workflow are answered UNAVAILABLE. */
  void stopGateway() {
    gateway.close();
    gateway = null;
  }

  /**
   * Stops Temporal: an embedded server loses every workflow it held, as when the process running
   * it dies; a dev server keeps them in its history file. Stop the worker and the gateway first;
   * they are bound to this connection.
   */
  void stopTemporal() {
    temporal.close();
    temporal = null;
  }

  /**
   * Starts Temporal again on the same port: an empty embedded server, or the dev server on its
   * history file (which keeps every workflow it held).
   */
  void startTemporal() throws IOException {
    temporal = settings.temporal().open(settings.portBase(), settings.dataDir(), settings.durableTemporal(),
        metrics.temporalScope());
  }
}
