package io.joinflow.node.catalog;

import com.google.protobuf.InvalidProtocolBufferException;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.TopologyUpdate;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * A node's durable catalog in RocksDB: its identity, the group 0 state it applied, topology
 * pushed to it, and the data of the groups it hosts. Every multi-key change is one
 * {@link WriteBatch}, written with sync so an acknowledged change survives a crash.
 */
public final class Catalog implements AutoCloseable {

  static {
    RocksDB.loadLibrary();
  }

  private static final byte[] NODE_ID = bytes("node_id");
  private static final byte[] INCARNATION = bytes("incarnation");
  private static final byte[] CLUSTER_ID = bytes("cluster_id");
  private static final byte[] BOOTSTRAPPED_HERE = bytes("bootstrapped_here");
  private static final byte[] DATA_GROUPS = bytes("data_groups");
  private static final byte[] STATE = bytes("state");
  private static final byte[] UPDATE = bytes("update");
  private static final int METADATA_GROUP = 0;

  private final RocksDB db;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions columnOptions;
  private final Map<CatalogColumn, ColumnFamilyHandle> columns = new EnumMap<>(CatalogColumn.class);
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();
  private final WriteOptions syncWrites = new WriteOptions().setSync(true);

  private Catalog(Path dir) throws IOException {
    Files.createDirectories(dir);
    dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
    columnOptions = new ColumnFamilyOptions();
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, columnOptions));
    for (CatalogColumn c : CatalogColumn.values()) {
      descriptors.add(new ColumnFamilyDescriptor(c.familyNameBytes(), columnOptions));
    }
    try {
      db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    } catch (RocksDBException e) {
      dbOptions.close();
      columnOptions.close();
      throw new IOException("cannot open catalog in " + dir + ": " + e.getMessage(), e);
    }
    for (CatalogColumn c : CatalogColumn.values()) {
      columns.put(c, handles.get(c.ordinal() + 1));
    }
  }

  /** Opens (creating if needed) the catalog in {@code dir}. */
  public static Catalog open(Path dir) throws IOException {
    return new Catalog(dir);
  }

  // ---- identity ----

  /** The node's persisted identity, if the catalog was initialised. */
  public Optional<Identity> identity() {
    byte[] id = get(CatalogColumn.IDENTITY, NODE_ID);
    if (id == null) {
      return Optional.empty();
    }
    byte[] cluster = get(CatalogColumn.IDENTITY, CLUSTER_ID);
    byte[] groups = get(CatalogColumn.IDENTITY, DATA_GROUPS);
    return Optional.of(new Identity(
        ByteBuffer.wrap(id).getLong(),
        new String(get(CatalogColumn.IDENTITY, INCARNATION), StandardCharsets.UTF_8),
        cluster == null ? 0 : ByteBuffer.wrap(cluster).getLong(),
        groups == null ? 0 : ByteBuffer.wrap(groups).getInt(),
        get(CatalogColumn.IDENTITY, BOOTSTRAPPED_HERE) != null));
  }

  /** Writes the whole identity in one batch. */
  public void writeIdentity(Identity identity) {
    try (WriteBatch batch = new WriteBatch()) {
      putIdentity(batch, identity);
      write(batch);
    } catch (RocksDBException e) {
      throw new CatalogException("write identity", e);
    }
  }

  private void putIdentity(WriteBatch batch, Identity identity) throws RocksDBException {
    ColumnFamilyHandle cf = columns.get(CatalogColumn.IDENTITY);
    batch.put(cf, NODE_ID, longBytes(identity.nodeId()));
    batch.put(cf, INCARNATION, bytes(identity.incarnation()));
    batch.put(cf, CLUSTER_ID, longBytes(identity.clusterId()));
    batch.put(cf, DATA_GROUPS, ByteBuffer.allocate(4).putInt(identity.dataGroups()).array());
    if (identity.bootstrappedHere()) {
      batch.put(cf, BOOTSTRAPPED_HERE, new byte[] {1});
    } else {
      batch.delete(cf, BOOTSTRAPPED_HERE);
    }
  }

  // ---- group 0 state ----

  /** The group 0 state this node applied, with its applied index (index 0 = nothing applied). */
  public AppliedMetadata metadata() {
    byte[] state = get(CatalogColumn.METADATA, STATE);
    try {
      return new AppliedMetadata(
          state == null ? MetadataState.getDefaultInstance() : MetadataState.parseFrom(state),
          appliedIndex(METADATA_GROUP));
    } catch (InvalidProtocolBufferException e) {
      throw new CatalogException("decode group 0 state", e);
    }
  }

  /** Stores the group 0 state and its applied index in one batch. */
  public void writeMetadata(MetadataState state, long appliedIndex) {
    try (WriteBatch batch = new WriteBatch()) {
      batch.put(columns.get(CatalogColumn.METADATA), STATE, state.toByteArray());
      batch.put(columns.get(CatalogColumn.APPLIED), groupKey(METADATA_GROUP), longBytes(appliedIndex));
      write(batch);
    } catch (RocksDBException e) {
      throw new CatalogException("write group 0 state", e);
    }
  }

  // ---- pushed topology ----

  /** The newest TopologyUpdate this node accepted, if any. */
  public Optional<TopologyUpdate> topologyUpdate() {
    byte[] raw = get(CatalogColumn.TOPOLOGY, UPDATE);
    if (raw == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(TopologyUpdate.parseFrom(raw));
    } catch (InvalidProtocolBufferException e) {
      throw new CatalogException("decode topology update", e);
    }
  }

  /**
   * Stores a pushed topology, and the identity's cluster id with it, in one batch: a node that
   * joined never holds a cluster id without the topology that goes with it (closes W6).
   */
  public void writeTopologyUpdate(TopologyUpdate update, Identity identity) {
    try (WriteBatch batch = new WriteBatch()) {
      batch.put(columns.get(CatalogColumn.TOPOLOGY), UPDATE, update.toByteArray());
      putIdentity(batch, identity);
      write(batch);
    } catch (RocksDBException e) {
      throw new CatalogException("write topology update", e);
    }
  }

  // ---- data groups ----

  /** The applied index of a group on this node (0 when nothing was applied). */
  public long appliedIndex(int group) {
    byte[] raw = get(CatalogColumn.APPLIED, groupKey(group));
    return raw == null ? 0 : ByteBuffer.wrap(raw).getLong();
  }

  /** Reads a key of a data group. */
  public Optional<byte[]> getData(int group, byte[] key) {
    return Optional.ofNullable(get(CatalogColumn.DATA, dataKey(group, key)));
  }

  /** Writes (value != null) or deletes (value == null) a key and the group's applied index. */
  public void applyData(int group, byte[] key, byte[] value, long appliedIndex) {
    try (WriteBatch batch = new WriteBatch()) {
      if (value == null) {
        batch.delete(columns.get(CatalogColumn.DATA), dataKey(group, key));
      } else {
        batch.put(columns.get(CatalogColumn.DATA), dataKey(group, key), value);
      }
      batch.put(columns.get(CatalogColumn.APPLIED), groupKey(group), longBytes(appliedIndex));
      write(batch);
    } catch (RocksDBException e) {
      throw new CatalogException("apply to group " + group, e);
    }
  }

  /** Records an applied index that changed no key (a no-op or rejected entry). */
  public void setAppliedIndex(int group, long appliedIndex) {
    try {
      db.put(columns.get(CatalogColumn.APPLIED), syncWrites, groupKey(group), longBytes(appliedIndex));
    } catch (RocksDBException e) {
      throw new CatalogException("set applied index of group " + group, e);
    }
  }

  /** Visits every key of a group, in key order, from one consistent RocksDB snapshot. */
  public void scanData(int group, BiConsumer<byte[], byte[]> visitor) {
    byte[] prefix = groupKey(group);
    Snapshot snapshot = db.getSnapshot();
    try (ReadOptions options = new ReadOptions().setSnapshot(snapshot);
         RocksIterator it = db.newIterator(columns.get(CatalogColumn.DATA), options)) {
      for (it.seek(prefix); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (!startsWith(k, prefix)) {
          break;
        }
        visitor.accept(Arrays.copyOfRange(k, prefix.length, k.length), it.value());
      }
    } finally {
      db.releaseSnapshot(snapshot);
    }
  }

  /**
   * Replaces every key of a group and its applied index in one batch (used to install a
   * snapshot, and with no entries to forget a group whose division was dropped).
   */
  public void replaceGroup(int group, List<Map.Entry<byte[], byte[]>> entries, long appliedIndex) {
    try (WriteBatch batch = new WriteBatch()) {
      batch.deleteRange(columns.get(CatalogColumn.DATA), groupKey(group), groupKey(group + 1));
      for (Map.Entry<byte[], byte[]> e : entries) {
        batch.put(columns.get(CatalogColumn.DATA), dataKey(group, e.getKey()), e.getValue());
      }
      if (appliedIndex == 0) {
        batch.delete(columns.get(CatalogColumn.APPLIED), groupKey(group));
      } else {
        batch.put(columns.get(CatalogColumn.APPLIED), groupKey(group), longBytes(appliedIndex));
      }
      if (group == METADATA_GROUP) {
        batch.delete(columns.get(CatalogColumn.METADATA), STATE);
      }
      write(batch);
    } catch (RocksDBException e) {
      throw new CatalogException("replace group " + group, e);
    }
  }

  @Override
  public void close() {
    syncWrites.close();
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    db.close();
    dbOptions.close();
    columnOptions.close();
  }

  private void write(WriteBatch batch) throws RocksDBException {
    db.write(syncWrites, batch);
  }

  private byte[] get(CatalogColumn column, byte[] key) {
    try {
      return db.get(columns.get(column), key);
    } catch (RocksDBException e) {
      throw new CatalogException("read " + column, e);
    }
  }

  private static boolean startsWith(byte[] a, byte[] prefix) {
    return a.length >= prefix.length
        && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static byte[] groupKey(int group) {
    return ByteBuffer.allocate(4).putInt(group).array();
  }

  private static byte[] dataKey(int group, byte[] key) {
    return ByteBuffer.allocate(4 + key.length).putInt(group).put(key).array();
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The node's identity. {@code clusterId} is 0 until it bootstrapped or joined a cluster. */
  public record Identity(long nodeId, String incarnation, long clusterId, int dataGroups,
                         boolean bootstrappedHere) {
    public Identity withCluster(long newClusterId, int newDataGroups, boolean bootstrapped) {
      return new Identity(nodeId, incarnation, newClusterId, newDataGroups, bootstrapped);
    }
  }

  /** Group 0 state with the log index it reflects. */
  public record AppliedMetadata(MetadataState state, long appliedIndex) {}

  /** A RocksDB failure: the catalog cannot be trusted past it, so callers stop. */
  public static final class CatalogException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CatalogException(String what, RocksDBException cause) {
      super("catalog: cannot " + what + ": " + cause.getMessage(), cause);
    }

    CatalogException(String what, InvalidProtocolBufferException cause) {
      super("catalog: cannot " + what + ": " + cause.getMessage(), cause);
    }
  }
}
