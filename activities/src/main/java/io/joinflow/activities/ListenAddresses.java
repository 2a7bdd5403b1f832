package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.reject;

import io.grpc.Status;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.JoinAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** A joining node's listen address as the join steps accept it: canonical, and dialable. */
final class ListenAddresses {

  private ListenAddresses() {}

  /**
   * The canonical address ({@link JoinAddress#canonical}) of a node with a valid id, or an
   * INVALID_ARGUMENT rejection in NodeDB's words.
   */
  static String canonical(long nodeId, String listenAddr) {
    return parse(nodeId, listenAddr).toString();
  }

  /** {@link #canonical}, parsed: its {@code toString()} is the canonical address. */
  static HostPort parse(long nodeId, String listenAddr) {
    ClusterViews.requireNodeId(nodeId);
    try {
      return JoinAddress.parse(listenAddr);
    } catch (IllegalArgumentException e) {
      throw reject(Status.INVALID_ARGUMENT, e.getMessage());
    }
  }

  /**
   * The host of a canonical address other nodes will dial must resolve, and not to the wildcard
   * address (a name or spelling such as {@code 0} can stand for it). Not resolving is taken as
   * final: a join that retries against a name nobody can dial would only hold its deadline.
   */
  static void checkResolvable(HostPort hp) {
    String addr = hp.toString();
    InetAddress[] resolved;
    try {
      resolved = InetAddress.getAllByName(hp.host());
    } catch (UnknownHostException e) {
      throw reject(Status.INVALID_ARGUMENT, "invalid listen_addr '" + addr + "': host " + hp.host()
          + " cannot be resolved; give a host name or IP address the cluster's nodes can resolve");
    }
    for (InetAddress a : resolved) {
      if (a.isAnyLocalAddress()) {
        throw reject(Status.INVALID_ARGUMENT, "invalid listen_addr '" + addr + "': " + hp.host() + " is "
            + a.getHostAddress() + ", which means every interface and other nodes cannot dial;"
            + " give an address they can reach");
      }
    }
  }
}
