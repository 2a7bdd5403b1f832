package io.joinflow.node.raft;

import java.io.IOException;
import java.util.Collection;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.ReconfigurationTimeoutException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.ExceptionDependentRetry;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;

/**
 * Ratis clients of one node, cached by (group, peers). Every client has a bounded retry policy
 * that never retries configuration conflicts, rejections or missing groups: the callers decide
 * what those mean (RATIS.md: the default client retries forever).
 */
public final class RaftClients implements AutoCloseable {
  private final RaftProperties properties;
  private final Parameters parameters;
  private final RetryPolicy retryPolicy;
  private final Map<String, RaftClient> clients = new ConcurrentHashMap<>();

  /** Plaintext clients. */
  public RaftClients(RaftSettings settings) {
    this(settings, new Parameters());
  }

  /** Clients with these transport parameters (see {@link RaftTls}). */
  public RaftClients(RaftSettings settings, Parameters parameters) {
    this.properties = settings.clientProperties();
    this.parameters = parameters;
    RetryPolicy never = RetryPolicies.noRetry();
    this.retryPolicy = ExceptionDependentRetry.newBuilder()
        .setDefaultPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
            settings.clientAttempts(), TimeDuration.valueOf(150, TimeUnit.MILLISECONDS)))
        .setExceptionToPolicy(ReconfigurationTimeoutException.class, never)
        .setExceptionToPolicy(ReconfigurationInProgressException.class, never)
        .setExceptionToPolicy(SetConfigurationException.class, never)
        .setExceptionToPolicy(StateMachineException.class, never)
        .setExceptionToPolicy(GroupMismatchException.class, never)
        .setExceptionToPolicy(AlreadyExistsException.class, never)
        .setMaxAttempts(settings.clientAttempts())
        .build();
  }

  /** A client of {@code groupId} that talks to {@code peers} (it follows leader redirects). */
  public RaftClient forGroup(RaftGroupId groupId, Collection<RaftPeer> peers) {
    String key = groupId + "/" + peers.stream().sorted(Comparator.comparing(p -> p.getId().toString()))
        .map(p -> p.getId() + "@" + p.getAddress()).collect(Collectors.joining(","));
    return clients.computeIfAbsent(key, k -> RaftClient.newBuilder()
        .setProperties(properties)
        .setParameters(parameters)
        .setRetryPolicy(retryPolicy)
        .setRaftGroup(RaftGroup.valueOf(groupId, peers))
        .build());
  }

  /** A client that addresses one peer (group management and info calls). */
  public RaftClient forPeer(RaftGroupId groupId, RaftPeer peer) {
    return forGroup(groupId, java.util.List.of(peer));
  }

  @Override
  public void close() {
    for (RaftClient c : clients.values()) {
      try {
        c.close();
      } catch (IOException ignored) {
        // closing channels of a stopping node
      }
    }
    clients.clear();
  }
}
