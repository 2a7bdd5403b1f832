package io.joinflow.node;

import io.joinflow.node.membership.MembershipSettings;
import java.time.Duration;

/**
 * The threads, timeouts and limits of a node's services, in one immutable place.
 *
 * @param adminThreads threads answering NodeAdmin calls. Calls block: a membership change waits
 *     its turn behind the group's running change for up to the change timeout, and changes merge
 *     only while they wait together; so enough threads that the additions of many simultaneous
 *     joins can wait at once and reads still get through (8 were too few). Idle threads end.
 * @param groupReadThreads threads reading group configurations at once for a cluster view (one
 *     round trip to each group's leader, made in parallel)
 * @param waitThreads threads of the scheduler that checks waiting calls (a learner catching up,
 *     a promoted node taking its vote): short RPCs, never blocking
 * @param hostingThreads the most blocking hosting calls one merged learner addition makes at once
 * @param transferTimeout how long one leadership transfer may take (about 80 ms measured;
 *     elections take about 0.5 s)
 * @param maxProgressWait the longest a LearnerProgress call may wait on the node; callers call
 *     again to wait longer
 * @param membership the tunables of membership changes and waits
 * @param maxMessageBytes the largest request the node's port accepts; larger ones get
 *     {@code RESOURCE_EXHAUSTED} before they are read (control RPCs are a few KiB)
 * @param maxCallsInFlight the most calls the node's port works on at once; beyond, a call gets
 *     {@code RESOURCE_EXHAUSTED} at once instead of queueing behind the admin threads
 * @param maxCallsPerConnection the most concurrent calls one connection may open (HTTP/2
 *     streams); a client's further calls wait for a free stream
 * @param reflection whether the port serves gRPC reflection (operators only on a secure node):
 *     for local development clusters, off in production, where it would map the API for anyone
 *     holding an operator certificate without the docs
 */
public record NodeTunables(int adminThreads, int groupReadThreads, int waitThreads, int hostingThreads,
                           Duration transferTimeout, Duration maxProgressWait, MembershipSettings membership,
                           int maxMessageBytes, int maxCallsInFlight, int maxCallsPerConnection,
                           boolean reflection) {
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

  public NodeTunables {
    if (adminThreads < 1 || groupReadThreads < 1 || waitThreads < 1 || hostingThreads < 1) {
      throw new IllegalArgumentException("thread counts must be at least 1");
    }
    if (maxMessageBytes < 1024 || maxCallsInFlight < 1 || maxCallsPerConnection < 1) {
      throw new IllegalArgumentException("message and call limits must be positive (messages at least 1 KiB)");
    }
  }

  public static NodeTunables defaults() {
    return new NodeTunables(64, 16, 4, 16, Duration.ofSeconds(5), Duration.ofSeconds(10),
        MembershipSettings.defaults(), DEFAULT_MAX_MESSAGE_BYTES, 1024, 256, false);
  }

  /** The same tunables with gRPC reflection served (development clusters). */
  public NodeTunables withReflection() {
    return new NodeTunables(adminThreads, groupReadThreads, waitThreads, hostingThreads, transferTimeout,
        maxProgressWait, membership, maxMessageBytes, maxCallsInFlight, maxCallsPerConnection, true);
  }
}
