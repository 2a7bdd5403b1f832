package io.joinflow.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/** Finds a base port with a run of free loopback ports above it (dev clusters in tests). */
final class Ports {
  private Ports() {}

  // Below Linux's ephemeral range (32768-60999): a port checked free there can be taken by an
  // outgoing connection before a node that starts late in a test binds it.
  private static final int LOWEST = 10_000;
  private static final int EPHEMERAL_START = 32_768;

  static int freeBase(int span) {
    if (LOWEST + span >= EPHEMERAL_START) {
      throw new IllegalArgumentException("a run of " + span + " ports does not fit below the ephemeral range");
    }
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = LOWEST + ThreadLocalRandom.current().nextInt(0, EPHEMERAL_START - span - LOWEST);
      if (allFree(base, span)) {
        return base;
      }
    }
    throw new IllegalStateException("no run of " + span + " free ports found");
  }

  private static boolean allFree(int base, int span) {
    for (int p = base; p < base + span; p++) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", p));
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }
}
