package io.joinflow.node.raft;

import io.joinflow.node.catalog.Catalog;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Ratis state machine whose state lives in the node's RocksDB catalog. Each applied entry
 * and its log index are written in one batch; on restart Ratis replays from its latest snapshot
 * and entries the catalog already holds are skipped, so replay is exact. Snapshots are single
 * files made from the catalog and installed into it, so a learner can catch up from a purged
 * log.
 */
abstract class CatalogStateMachine extends BaseStateMachine implements GroupEvents.Source {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogStateMachine.class);
  /**
   * Written into the division's own state machine directory once the catalog was cleared for
   * it. Ratis deletes that directory when the division is dropped, so a division hosted again
   * later starts from an empty catalog instead of stale data.
   */
  private static final String CATALOG_BOUND_MARKER = "catalog-bound";

  protected final Catalog catalog;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private RaftStorage raftStorage;
  protected int group;
  /** The log index the catalog reflects for this group. */
  private volatile long catalogApplied;

  private final GroupEvents events = new GroupEvents();

  CatalogStateMachine(Catalog catalog) {
    this.catalog = catalog;
  }

  /** Leader and configuration changes this division saw, for the node's metrics. */
  @Override
  public GroupEvents events() {
    return events;
  }

  @Override
  public void notifyLeaderChanged(org.apache.ratis.protocol.RaftGroupMemberId member,
                                  org.apache.ratis.protocol.RaftPeerId newLeader) {
    events.leaderChanged();
  }

  @Override
  public void notifyConfigurationChanged(long term, long index,
                                         org.apache.ratis.proto.RaftProtos.RaftConfigurationProto conf) {
    // Ratis commits each change as two entries, the joint configuration and then the new one:
    // count the change once, at the new one (no old peers).
    if (conf.getOldPeersCount() == 0 && conf.getOldListenersCount() == 0) {
      events.configurationChanged();
    }
  }

  /** Applies one entry: writes the catalog (entry and index in one batch) and returns the reply. */
  protected abstract Message applyEntry(ByteString data, long index);

  /** Replaces this group's catalog state with a snapshot's content at {@code index}. */
  protected abstract void installSnapshot(InputStream in, long index) throws IOException;

  /** Writes this group's catalog state to a snapshot file. */
  protected abstract void writeSnapshot(OutputStream out) throws IOException;

  /** Reloads in-memory state (if any) from the catalog. */
  protected abstract void loadFromCatalog();

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage)
      throws IOException {
    super.initialize(server, groupId, storage);
    this.group = ClusterIds.groupNumber(groupId);
    this.raftStorage = storage;
    this.storage.init(storage);
    getLifeCycle().startAndTransition(() -> {
      bindCatalog();
      load();
    });
  }

  private void bindCatalog() throws IOException {
    File marker = new File(raftStorage.getStorageDir().getStateMachineDir(), CATALOG_BOUND_MARKER);
    if (!marker.exists()) {
      catalog.replaceGroup(group, java.util.List.of(), 0);
      Files.createDirectories(marker.getParentFile().toPath());
      Files.writeString(marker.toPath(), "group " + group + "\n");
    }
  }

  private void load() throws IOException {
    SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
    long applied = catalog.appliedIndex(group);
    if (snapshot != null && snapshot.getIndex() > applied) {
      File file = snapshot.getFile().getPath().toFile();
      if (snapshot.hasMd5()) {
        MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
      }
      try (InputStream in = new BufferedInputStream(Files.newInputStream(file.toPath()))) {
        installSnapshot(in, snapshot.getIndex());
      }
      LOG.info("{}: group {} loaded snapshot {}", getId(), group, snapshot.getTermIndex());
      applied = snapshot.getIndex();
    }
    loadFromCatalog();
    catalogApplied = applied;
    setLastAppliedTermIndex(snapshot == null ? null : snapshot.getTermIndex());
  }

  @Override
  public void pause() {
    // Ratis asserts PAUSED before it reloads an installed snapshot.
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.RUNNING) {
      lc.transition(LifeCycle.State.PAUSING);
      lc.transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    getLifeCycle().startAndTransition(this::load);
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    Message reply;
    if (index <= catalogApplied) {
      reply = alreadyApplied(index);
    } else {
      // A catalog failure is rethrown on purpose: a replica that cannot persist what it applies
      // must stop (fail-stop) rather than acknowledge state it will lose.
      reply = applyEntry(entry.getStateMachineLogEntry().getLogData(), index);
      catalogApplied = index;
    }
    updateLastAppliedTermIndex(entry.getTerm(), index);
    return CompletableFuture.completedFuture(reply);
  }

  /** The reply for an entry that the catalog already held when it was replayed. */
  protected abstract Message alreadyApplied(long index);

  @Override
  public long takeSnapshot() throws IOException {
    TermIndex last = getLastAppliedTermIndex();
    if (last == null || last.getIndex() < catalogApplied || last.getIndex() <= 0) {
      // Still replaying entries the catalog already holds: its content is ahead of the label
      // a snapshot could carry now.
      SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
      return latest == null ? RaftLog.INVALID_LOG_INDEX : latest.getIndex();
    }
    File target = storage.getSnapshotFile(last.getTerm(), last.getIndex());
    File tmp = new File(target.getParentFile(), target.getName() + ".writing");
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp.toPath()))) {
      writeSnapshot(out);
    }
    Files.move(tmp.toPath(), target.toPath(), StandardCopyOption.ATOMIC_MOVE);
    MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(target);
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(target.toPath(), md5), last));
    return last.getIndex();
  }

  @Override
  public SingleFileSnapshotInfo getLatestSnapshot() {
    return storage.getLatestSnapshot();
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }
}
