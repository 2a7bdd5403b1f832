package io.joinflow.node.membership;

import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.RaftClients;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.util.ProtoUtils;

/**
 * Reads of group configurations: finds a group's leader among any of its members and reads the
 * configuration there, or asks one peer's own division about itself.
 *
 * <p>Ratis 3.3.0 cannot answer a group-info request while a promotion is being committed: during
 * the joint configuration the promoted node is a listener of the old configuration and a voter
 * of the new one, and the server's {@code Division.getGroup()} builds one {@code RaftGroup} of
 * both lists, which throws {@code IllegalStateException: Found duplicated element}. That state
 * lasts one commit, so a read that meets it asks again, for at most {@link #TRANSITION_WAIT},
 * instead of taking the member for unreachable or the failure for a bug.
 */
public final class ConfReader {
  /** The marker of Ratis' failure to list a joint configuration (see the class comment). */
  static final String JOINT_CONF_FAILURE = "Found duplicated element";
  /** How long a read waits out a joint configuration; one commit takes milliseconds. */
  static final Duration TRANSITION_WAIT = Duration.ofSeconds(2);
  private static final long TRANSITION_RETRY_MS = 5;

  private final RaftClients clients;

  public ConfReader(RaftClients clients) {
    this.clients = clients;
  }

  /**
   * Finds the leader of a group among {@code candidates} (any members) and reads its conf.
   *
   * @throws MembershipException (retryable) when no candidate knows a reachable leader
   */
  public Conf readConf(RaftGroupId groupId, Collection<RaftPeer> candidates) throws IOException {
    IOException last = null;
    Set<RaftPeer> toAsk = new LinkedHashSet<>(candidates);
    Set<RaftPeerId> asked = new HashSet<>();
    while (!toAsk.isEmpty()) {
      RaftPeer peer = toAsk.iterator().next();
      toAsk.remove(peer);
      if (!asked.add(peer.getId())) {
        continue;
      }
      GroupInfoReply info;
      try {
        info = groupInfo(groupId, peer);
      } catch (IOException e) {
        last = e;
        continue;
      }
      RoleInfoProto role = info.getRoleInfoProto();
      if (role.getRole() == RaftPeerRole.LEADER && info.getConf().isPresent()) {
        return toConf(peer, info);
      }
      if (role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()
          && !role.getFollowerInfo().getLeaderInfo().getId().getId().isEmpty()) {
        RaftPeer leader = ProtoUtils.toRaftPeer(role.getFollowerInfo().getLeaderInfo().getId());
        if (!asked.contains(leader.getId()) && !leader.getAddress().isEmpty()) {
          LinkedHashSet<RaftPeer> next = new LinkedHashSet<>();
          next.add(leader);
          next.addAll(toAsk);
          toAsk = next;
        }
      }
    }
    throw new MembershipException("no reachable leader for group " + ClusterIds.groupNumber(groupId)
        + (last == null ? "" : ": " + last.getMessage()), true, last);
  }

  private static Conf toConf(RaftPeer leader, GroupInfoReply info) {
    RaftConfigurationProto c = info.getConf().orElseThrow();
    long commit = info.getCommitInfos().stream()
        .filter(ci -> ProtoUtils.toRaftPeer(ci.getServer()).getId().equals(leader.getId()))
        .mapToLong(CommitInfoProto::getCommitIndex).findFirst().orElse(0);
    return new Conf(leader, ProtoUtils.toRaftPeers(c.getPeersList()),
        ProtoUtils.toRaftPeers(c.getListenersList()),
        c.getOldPeersCount() > 0 || c.getOldListenersCount() > 0, commit,
        List.copyOf(info.getCommitInfos()), info.getRoleInfoProto().getLeaderInfo().getTerm());
  }

  /**
   * What {@code peer}'s own division of the group reports about itself (role, conf, log), asked
   * again while the group is in a joint configuration Ratis cannot list.
   */
  public GroupInfoReply groupInfo(RaftGroupId groupId, RaftPeer peer) throws IOException {
    long deadline = System.nanoTime() + TRANSITION_WAIT.toNanos();
    while (true) {
      try {
        return RatisCalls.call(() -> clients.forPeer(groupId, peer).getGroupManagementApi(peer.getId()).info(groupId));
      } catch (IOException e) {
        if (!isJointConfFailure(e) || System.nanoTime() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(TRANSITION_RETRY_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted reading group " + ClusterIds.groupNumber(groupId));
      }
    }
  }

  /** The index {@code peer}'s division of the group has applied, asked of the peer itself. */
  public long appliedIndex(RaftGroupId groupId, RaftPeer peer) throws IOException {
    return groupInfo(groupId, peer).getLogInfoProto().getApplied().getIndex();
  }

  /** Whether a failure is Ratis failing to list a joint configuration (see the class comment). */
  static boolean isJointConfFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (String.valueOf(c.getMessage()).contains(JOINT_CONF_FAILURE)) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }
}
