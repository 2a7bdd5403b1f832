package io.joinflow.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code joinflow} command in an OS process of its own, as an operator runs it: the packaged
 * runnable jar ({@code cli/target/joinflow.jar}, built by the package phase before the
 * integration tests) when it exists, else this test's classpath. Its stdout and stderr go to a
 * file, which failures quote, with the end of its own log file.
 */
final class JoinflowProcess implements AutoCloseable {
  // Small JVMs that start fast: many of them share two cores.
  private static final List<String> JVM = List.of("-Xmx256m", "-XX:MaxDirectMemorySize=256m", "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1");

  private final String name;
  private final Process process;
  private final Path log;

  private JoinflowProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** Starts {@code joinflow args...} with these extra environment variables; output to {@code log}. */
  static JoinflowProcess start(String name, Path log, Map<String, String> env, String... args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java));
    cmd.addAll(JVM);
    // The runnable jar the cli module packaged before the integration tests run.
    Path jar = Path.of("..", "cli", "target", "joinflow.jar").toAbsolutePath().normalize();
    if (Files.isRegularFile(jar)) {
      cmd.addAll(List.of("-jar", jar.toString()));
    } else {
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.joinflow.cli.Main"));
    }
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().keySet().removeIf(k -> k.startsWith("TEMPORAL_"));
    pb.environment().putAll(env);
    return new JoinflowProcess(name, pb.start(), log);
  }

  /** Waits until the log holds {@code text}, the process exits, or the deadline passes. */
  boolean awaitLine(String text, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      if (logText().contains(text)) {
        return true;
      }
      if (!process.isAlive()) {
        return logText().contains(text);
      }
      Thread.sleep(50);
    }
    return false;
  }

  /** SIGKILL: no shutdown hook, no graceful close. Returns the exit code (137). */
  int kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  String name() {
    return name;
  }

  /** Waits for the process to exit by itself; null if it did not within {@code within}. */
  Integer awaitExit(Duration within) throws InterruptedException {
    return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
  }

  String logText() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * The last lines of the output, for assertion messages, and of the log file the process named
   * in it ("logs: FILE"), which has what its stderr no longer shows.
   */
  String tail() {
    String all = logText();
    String tail = "--- " + name + " (pid " + process.pid() + ", " + (process.isAlive() ? "running" : "exited "
        + process.exitValue()) + ") " + log + " ---\n" + last(all);
    String file = all.lines().filter(l -> l.startsWith("logs: ")).map(l -> l.substring(6)).findFirst().orElse(null);
    if (file != null) {
      try {
        tail += "\n--- " + file + " ---\n" + last(Files.readString(Path.of(file), StandardCharsets.UTF_8));
      } catch (IOException e) {
        tail += "\n--- " + file + ": " + e.getMessage();
      }
    }
    return tail;
  }

  private static String last(String text) {
    return text.length() > 3000 ? text.substring(text.length() - 3000) : text;
  }

  /** SIGTERM, then SIGKILL if it does not stop within 20 s. */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
