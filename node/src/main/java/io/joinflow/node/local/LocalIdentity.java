package io.joinflow.node.local;

import io.joinflow.node.catalog.Catalog;
import io.joinflow.proto.HostPort;

/**
 * Who this node is: its id and addresses (fixed) and its identity in the catalog (incarnation,
 * cluster, data groups), which changes once, when the node bootstraps or joins a cluster. Every
 * change is written to the catalog before it is visible here.
 */
public final class LocalIdentity {
  /** The wire version this node speaks (JoinRequest.wire_version). */
  public static final int WIRE_VERSION = 1;

  private final long nodeId;
  private final HostPort listen;
  private final HostPort raftListen;
  private final Catalog catalog;
  private volatile Catalog.Identity identity;

  public LocalIdentity(long nodeId, HostPort listen, HostPort raftListen, Catalog catalog, Catalog.Identity identity) {
    this.nodeId = nodeId;
    this.listen = listen;
    this.raftListen = raftListen;
    this.catalog = catalog;
    this.identity = identity;
  }

  public long nodeId() {
    return nodeId;
  }

  public HostPort listen() {
    return listen;
  }

  public HostPort raftListen() {
    return raftListen;
  }

  public Catalog.Identity get() {
    return identity;
  }

  public long clusterId() {
    return identity.clusterId();
  }

  /** Persists a new identity, then makes it current. */
  public void update(Catalog.Identity next) {
    catalog.writeIdentity(next);
    identity = next;
  }

  /** Makes an identity current that the caller already persisted (in one batch with other state). */
  public void persisted(Catalog.Identity next) {
    identity = next;
  }
}
