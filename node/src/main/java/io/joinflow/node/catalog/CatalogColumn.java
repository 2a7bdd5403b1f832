package io.joinflow.node.catalog;

import java.nio.charset.StandardCharsets;

/**
 * The catalog's RocksDB column families. The names are part of the on-disk format: never rename
 * one, only add new ones.
 */
public enum CatalogColumn {
  /** Node identity: node id, incarnation, cluster id. */
  IDENTITY("identity"),
  /** Group 0 state as applied on this node, with its applied index. */
  METADATA("metadata"),
  /** Topology pushed to this node by TopologyUpdate (nodes outside group 0 read it). */
  TOPOLOGY("topology"),
  /** Data group key-values, keyed by group number (4 bytes, big endian) then the user key. */
  DATA("data"),
  /** Applied index per group number (4 bytes, big endian). */
  APPLIED("applied");

  private final String familyName;

  CatalogColumn(String familyName) {
    this.familyName = familyName;
  }

  byte[] familyNameBytes() {
    return familyName.getBytes(StandardCharsets.UTF_8);
  }
}
