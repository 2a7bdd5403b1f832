package io.joinflow.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Where the crash matrix's first seed comes from: the {@code joinflow.crash.seed} property when
 * given, else the commit under test (its id's first 32 bits, so each commit runs other seeds and
 * any run can be replayed from the seed it printed), else a fixed seed outside a git checkout.
 */
final class CrashSeeds {
  static final long FIXED = 4242;

  /** The first seed and how it was chosen. */
  record First(long seed, String source) {}

  private CrashSeeds() {}

  static First first(String property) {
    if (property != null && !property.isBlank()) {
      return new First(Long.parseLong(property.trim()), "from -Djoinflow.crash.seed");
    }
    String commit = headCommit();
    if (commit == null) {
      return new First(FIXED, "fixed: no git commit found");
    }
    return new First(fromCommit(commit), "from commit " + commit.substring(0, 12));
  }

  /** A seed from a commit id: its first 8 hex digits, as a non-negative number. */
  static long fromCommit(String commit) {
    return Long.parseLong(commit.substring(0, 8), 16);
  }

  private static String headCommit() {
    try {
      Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0 || !out.matches("[0-9a-f]{40}")) {
        return null;
      }
      return out;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
