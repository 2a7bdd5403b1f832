package io.joinflow.worker;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Temporal CLI's dev server ({@code temporal server start-dev}: the Temporal server, SQLite
 * persistence and the Web UI in one process) as a child process of this one, on loopback only.
 *
 * <p>The child never outlives this process: {@link #close} stops it (SIGTERM, then SIGKILL),
 * a shutdown hook does the same on Ctrl-C, and a small {@code sh} watchdog between the two kills
 * it when this process dies without running its hooks (kill -9): the watchdog holds the read end
 * of a pipe whose write end only this process holds, and the pipe closes when this process does.
 */
public final class TemporalDevServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TemporalDevServer.class);
  private static final String HOST = "127.0.0.1";
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  // "$@" runs the server; the subshell waits for EOF on the watchdog's stdin (this process's
  // pipe; fd 3, because a background job's own stdin is /dev/null) and then stops it. "exec" is
  // avoided so the watchdog survives to do that.
  private static final String WATCHDOG = "exec 3<&0\n"
      + "\"$@\" </dev/null 3<&- & child=$!\n"
      + "trap 'kill -TERM $child 2>/dev/null' TERM INT\n"
      + "(cat <&3 >/dev/null; kill -TERM $child 2>/dev/null) &\n"
      + "exec 3<&-\n"
      // A trapped signal ends a wait early: wait again until the server is gone.
      + "while kill -0 $child 2>/dev/null; do wait $child; done\n";

  /**
   * Where and how to run the dev server.
   *
   * @param binary the {@code temporal} executable
   * @param port the frontend (gRPC) port; the Web UI, HTTP API and metrics get ports of their own
   * @param uiPort 0 for no Web UI (headless)
   * @param dbFile the SQLite file that makes its history durable; null keeps it in memory
   * @param logFile where the server's own output goes
   */
  public record Settings(Path binary, int port, int uiPort, int httpPort, int metricsPort, Path dbFile,
                         String namespace, Path logFile) {
    public Settings {
      if (binary == null || namespace == null || namespace.isBlank() || logFile == null) {
        throw new IllegalArgumentException("binary, namespace and logFile are required");
      }
    }

    List<String> command() {
      List<String> cmd = new ArrayList<>(List.of(binary.toString(), "server", "start-dev",
          "--ip", HOST,
          "--port", String.valueOf(port),
          "--http-port", String.valueOf(httpPort),
          "--metrics-port", String.valueOf(metricsPort),
          "--namespace", namespace,
          "--log-level", "warn"));
      if (uiPort > 0) {
        cmd.addAll(List.of("--ui-port", String.valueOf(uiPort), "--ui-disable-news-fetch"));
      } else {
        cmd.add("--headless");
      }
      if (dbFile != null) {
        cmd.addAll(List.of("--db-filename", dbFile.toString()));
      }
      // Only applied when the namespace is created (first start of a DB file); the connection
      // registers and verifies them in any case.
      for (var attribute : JoinSearchAttributeTypes.REQUIRED.entrySet()) {
        cmd.addAll(List.of("--search-attribute", attribute.getKey() + "=" + attribute.getValue().cliName()));
      }
      return cmd;
    }
  }

  private final Settings settings;
  private final Process process;
  private final OutputStream lifeline;
  private final Thread hook;

  private TemporalDevServer(Settings settings, Process process) {
    this.settings = settings;
    this.process = process;
    this.lifeline = process.getOutputStream();
    this.hook = new Thread(this::stop, "stop-temporal-dev-server");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Starts the server and waits until its frontend answers for the namespace.
   *
   * @throws IOException with the server's last output lines when it exits or does not answer
   *     within {@code timeout} (a port in use, a locked or corrupt DB file, ...)
   */
  public static TemporalDevServer start(Settings settings, Duration timeout) throws IOException {
    if (settings.dbFile() != null) {
      Files.createDirectories(settings.dbFile().toAbsolutePath().getParent());
    }
    Files.createDirectories(settings.logFile().toAbsolutePath().getParent());
    List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", WATCHDOG, "temporal-watchdog"));
    cmd.addAll(settings.command());
    Process p = new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(settings.logFile().toFile()))
        .start();
    TemporalDevServer server = new TemporalDevServer(settings, p);
    try {
      server.awaitReady(timeout);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    LOG.info("temporal dev server on {} (ui {}, db {}), log {}", server.target(),
        settings.uiPort() > 0 ? server.uiUrl().orElse("") : "none",
        settings.dbFile() == null ? "in memory" : settings.dbFile(), settings.logFile());
    return server;
  }

  private void awaitReady(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    ManagedChannel channel = NettyChannelBuilder.forAddress(HOST, settings.port()).usePlaintext().build();
    try {
      var stub = WorkflowServiceGrpc.newBlockingStub(channel);
      StatusRuntimeException last = null;
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IOException("temporal server start-dev exited with code " + process.exitValue()
              + " before it answered on " + target() + ":\n" + logTail());
        }
        try {
          stub.withDeadlineAfter(1, TimeUnit.SECONDS)
              .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(settings.namespace()).build());
          return;
        } catch (StatusRuntimeException e) {
          last = e;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for the Temporal dev server", e);
        }
      }
      throw new IOException("temporal server start-dev did not answer on " + target() + " within "
          + timeout.toSeconds() + " s (last: " + (last == null ? "none" : last.getStatus()) + "):\n" + logTail());
    } finally {
      channel.shutdownNow();
    }
  }

  /** The frontend address clients use. */
  public String target() {
    return HOST + ":" + settings.port();
  }

  /** The Web UI's root, unless the server runs headless. */
  public Optional<String> uiUrl() {
    return settings.uiPort() > 0 ? Optional.of("http://" + HOST + ":" + settings.uiPort()) : Optional.empty();
  }

  public Settings settings() {
    return settings;
  }

  /** The pid of the {@code temporal} process itself (not the watchdog), when it can be told. */
  public Optional<Long> serverPid() {
    return process.descendants().filter(h -> h.info().command().map(c -> c.endsWith("temporal")).orElse(false))
        .map(ProcessHandle::pid).findFirst();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The last lines the server wrote, for error messages. */
  public String logTail() {
    try {
      List<String> lines = Files.readAllLines(settings.logFile(), StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(no log at " + settings.logFile() + ")";
    }
  }

  private void stop() {
    // Taken first: once the watchdog exits, the server is no longer its descendant.
    List<ProcessHandle> tree = process.descendants().toList();
    // Ends the watchdog's reader even when the watchdog itself is gone (the server died first).
    try {
      lifeline.close();
    } catch (IOException e) {
      // the watchdog is gone already
    }
    tree.forEach(ProcessHandle::destroy);
    process.destroy();
    // Returns once the server exited and released its ports (the next start may reuse them).
    long deadline = System.nanoTime() + STOP_GRACE.toNanos();
    for (ProcessHandle h : tree) {
      try {
        h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        LOG.warn("temporal dev server process {} did not stop within {} s; killing it", h.pid(),
            STOP_GRACE.toSeconds());
        h.destroyForcibly();
        try {
          h.onExit().get(5, TimeUnit.SECONDS);
        } catch (Exception gone) {
          // nothing more to do
        }
      }
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the server (its SQLite file, if any, keeps the history). */
  @Override
  public void close() {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs (or ran) stop()
    }
  }

  /** Finds {@code temporal} on PATH, or null. */
  public static Path findOnPath() {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, "temporal");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
