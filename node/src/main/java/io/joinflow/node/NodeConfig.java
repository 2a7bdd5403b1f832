package io.joinflow.node;

import io.joinflow.proto.HostPort;
import io.joinflow.node.raft.RaftSettings;
import io.joinflow.security.Role;
import io.joinflow.security.TlsIdentity;
import java.nio.file.Path;

/**
 * Everything a node needs to start, loaded once in {@code main}.
 *
 * @param nodeId non-zero id of this node
 * @param listen NodeAdmin gRPC address; the address a JoinRequest carries
 * @param raftListen Ratis server address
 * @param dataDir the node's storage: catalog and Ratis logs
 * @param bootstrap create a cluster if the data dir is empty
 * @param dataGroups number of data groups created by a bootstrap
 * @param raft Ratis settings
 * @param tunables threads, timeouts and limits of the node's services
 * @param tls this node's certificate for mutual TLS on both ports, or null to serve plaintext
 */
public record NodeConfig(long nodeId, HostPort listen, HostPort raftListen, Path dataDir,
                         boolean bootstrap, int dataGroups, RaftSettings raft, NodeTunables tunables,
                         TlsIdentity tls) {
  public static final int DEFAULT_DATA_GROUPS = 8;
  public static final int MAX_DATA_GROUPS = 1024;

  public NodeConfig {
    if (nodeId == 0) {
      throw new IllegalArgumentException("node id must be non-zero");
    }
    if (dataGroups < 1 || dataGroups > MAX_DATA_GROUPS) {
      throw new IllegalArgumentException("--groups must be 1.." + MAX_DATA_GROUPS + ", not " + dataGroups);
    }
    if (listen.equals(raftListen)) {
      throw new IllegalArgumentException("--listen and --raft-listen must differ (" + listen + ")");
    }
    if (tunables == null) {
      throw new IllegalArgumentException("tunables are required (NodeTunables.defaults())");
    }
    if (tls != null && (tls.self().role() != Role.NODE || tls.self().nodeId() != nodeId)) {
      throw new IllegalArgumentException("the certificate names " + tls.self() + ", not node "
          + Long.toUnsignedString(nodeId) + "; issue one with joinflow cert create-node --node-id "
          + Long.toUnsignedString(nodeId));
    }
  }

  /** A plaintext node with these tunables. */
  public NodeConfig(long nodeId, HostPort listen, HostPort raftListen, Path dataDir, boolean bootstrap,
                    int dataGroups, RaftSettings raft, NodeTunables tunables) {
    this(nodeId, listen, raftListen, dataDir, bootstrap, dataGroups, raft, tunables, null);
  }

  /** The same node with mutual TLS from {@code identity}. */
  public NodeConfig withTls(TlsIdentity identity) {
    return new NodeConfig(nodeId, listen, raftListen, dataDir, bootstrap, dataGroups, raft, tunables, identity);
  }

  /** The same node serving gRPC reflection (development clusters). */
  public NodeConfig withReflection() {
    return new NodeConfig(nodeId, listen, raftListen, dataDir, bootstrap, dataGroups, raft, tunables.withReflection(),
        tls);
  }

  public boolean secure() {
    return tls != null;
  }

  /** A node with the default tunables. */
  public NodeConfig(long nodeId, HostPort listen, HostPort raftListen, Path dataDir, boolean bootstrap,
                    int dataGroups, RaftSettings raft) {
    this(nodeId, listen, raftListen, dataDir, bootstrap, dataGroups, raft, NodeTunables.defaults());
  }
}
