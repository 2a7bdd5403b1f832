package io.joinflow.node.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import java.util.List;

/**
 * Every Ratis setting joinflow changes, with its default, in one place.
 *
 * @param electionMin lower bound of the randomised leader election timeout
 * @param electionMax upper bound of the randomised leader election timeout
 * @param rpcTimeout timeout of one Ratis RPC (client and server)
 * @param clientAttempts attempts a Ratis client makes before giving up (never unbounded)
 * @param snapshotThreshold applied entries between automatic snapshots
 * @param segmentSize size at which a log segment is closed (only closed segments are purged)
 * @param writeBufferBytes per-division log write buffer (direct memory)
 * @param stagingCatchupGap how close a new member must be before its conf change commits
 */
public record RaftSettings(Duration electionMin, Duration electionMax, Duration rpcTimeout,
                           int clientAttempts, long snapshotThreshold, long segmentSize,
                           long writeBufferBytes, int stagingCatchupGap) {

  /** Defaults for a production node hosting 1 + 8 groups on a small machine. */
  public static RaftSettings defaults() {
    return new RaftSettings(Duration.ofMillis(500), Duration.ofMillis(1000), Duration.ofSeconds(3),
        8, 10_000, 8L << 20, 320L << 10, 1000);
  }

  public RaftSettings withElection(Duration min, Duration max) {
    return new RaftSettings(min, max, rpcTimeout, clientAttempts, snapshotThreshold, segmentSize,
        writeBufferBytes, stagingCatchupGap);
  }

  public RaftSettings withLog(long newSnapshotThreshold, long newSegmentSize) {
    return new RaftSettings(electionMin, electionMax, rpcTimeout, clientAttempts,
        newSnapshotThreshold, newSegmentSize, writeBufferBytes, stagingCatchupGap);
  }

  /** Properties for this node's Ratis server. */
  public RaftProperties serverProperties(Path storageDir, String host, int port) {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(storageDir.toFile()));
    GrpcConfigKeys.Server.setHost(p, host);
    GrpcConfigKeys.Server.setPort(p, port);
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(electionMin));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(electionMax));
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, millis(rpcTimeout));
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotThreshold);
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(segmentSize));
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, 1);
    // Many divisions per server: shrink the per-division direct buffers (RATIS.md).
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(writeBufferBytes));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(writeBufferBytes - (64L << 10)));
    RaftServerConfigKeys.setStagingCatchupGap(p, stagingCatchupGap);
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(8L << 20));
    return p;
  }

  /** Properties for Ratis clients (retries are set by the client builder, never unbounded). */
  public RaftProperties clientProperties() {
    RaftProperties p = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(rpcTimeout));
    return p;
  }

  private static TimeDuration millis(Duration d) {
    return TimeDuration.valueOf(d.toMillis(), TimeUnit.MILLISECONDS);
  }
}
