package io.joinflow.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/** Finds a base port with a run of free loopback ports above it (dev clusters in tests). */
final class Ports {
  private Ports() {}

  static int freeBase(int span) {
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = 20_000 + ThreadLocalRandom.current().nextInt(0, 30_000);
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
