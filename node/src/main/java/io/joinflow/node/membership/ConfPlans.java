package io.joinflow.node.membership;

import io.joinflow.node.raft.ClusterIds;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * What a configuration change aims for, decided on the conf the compare-and-set will replace
 * ({@link ConfChanges} runs them). Pure functions of a conf.
 */
final class ConfPlans {
  private ConfPlans() {}

  /** The voters and listeners a change aims for. */
  record Target(List<RaftPeer> voters, List<RaftPeer> listeners) {
    boolean heldBy(Conf conf) {
      return ids(voters).equals(ids(conf.voters())) && ids(listeners).equals(ids(conf.listeners()));
    }

    private static Set<RaftPeerId> ids(List<RaftPeer> peers) {
      Set<RaftPeerId> s = new HashSet<>();
      peers.forEach(p -> s.add(p.getId()));
      return s;
    }
  }

  /**
   * What to change, decided on the conf the compare-and-set will replace: null when the conf
   * already is what the caller wants; an {@link IllegalStateException} when the change must not
   * be made at all (its message says why; the change fails, not retryable).
   */
  @FunctionalInterface
  interface Plan {
    Target on(Conf conf);
  }

  /** Adds every learner of {@code learners} not in the conf yet. */
  static Plan addLearners(List<RaftPeer> learners) {
    return conf -> {
      List<RaftPeer> listeners = new ArrayList<>(conf.listeners());
      for (RaftPeer l : learners) {
        if (!conf.isVoter(l.getId()) && !conf.isListener(l.getId())) {
          listeners.add(RaftPeer.newBuilder(l).setStartupRole(RaftPeerRole.LISTENER).build());
        }
      }
      return listeners.size() == conf.listeners().size() ? null : new Target(conf.voters(), listeners);
    };
  }

  /** Moves a listener into the voters, unless the group has {@code maxVoters} already (0 = no limit). */
  static Plan promote(RaftGroupId groupId, RaftPeerId learner, int maxVoters) {
    return conf -> {
      if (conf.isVoter(learner)) {
        return null;
      }
      if (maxVoters > 0 && conf.voters().size() >= maxVoters && conf.isListener(learner)) {
        return null;
      }
      RaftPeer peer = conf.listeners().stream().filter(p -> p.getId().equals(learner)).findFirst()
          .orElseThrow(() -> new IllegalStateException(learner + " is not a learner of group "
              + ClusterIds.groupNumber(groupId) + "; add it as a learner first"));
      List<RaftPeer> voters = new ArrayList<>(conf.voters());
      voters.add(RaftPeer.newBuilder(peer).setStartupRole(RaftPeerRole.FOLLOWER).build());
      List<RaftPeer> listeners = new ArrayList<>(conf.listeners());
      listeners.removeIf(p -> p.getId().equals(learner));
      return new Target(voters, listeners);
    };
  }

  /** Removes a listener; a voter is refused (taking a vote away is a leave's business). */
  static Plan removeLearner(RaftGroupId groupId, RaftPeerId learner) {
    return conf -> {
      if (conf.isVoter(learner)) {
        throw new IllegalStateException(learner + " is a voter of group " + ClusterIds.groupNumber(groupId)
            + "; removing a learner never removes a voter (remove a voter by decommissioning it)");
      }
      if (!conf.isListener(learner)) {
        return null;
      }
      List<RaftPeer> listeners = new ArrayList<>(conf.listeners());
      listeners.removeIf(p -> p.getId().equals(learner));
      return new Target(conf.voters(), listeners);
    };
  }

  /** Removes a node from whichever list holds it; the last voter is refused. */
  static Plan removeMember(RaftGroupId groupId, RaftPeerId id) {
    return conf -> {
      if (!conf.isVoter(id) && !conf.isListener(id)) {
        return null;
      }
      List<RaftPeer> voters = new ArrayList<>(conf.voters());
      voters.removeIf(p -> p.getId().equals(id));
      if (voters.isEmpty()) {
        throw new IllegalStateException(id + " is the last voter of group "
            + ClusterIds.groupNumber(groupId) + "; a group cannot lose its last voter");
      }
      List<RaftPeer> listeners = new ArrayList<>(conf.listeners());
      listeners.removeIf(p -> p.getId().equals(id));
      return new Target(voters, listeners);
    };
  }
}
