package io.joinflow.node.raft;

import io.joinflow.security.Role;
import io.joinflow.security.TlsIdentity;
import java.util.Set;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;

/**
 * Mutual TLS for Ratis' own gRPC transport. Ratis 3.3 takes TLS only as {@link Parameters}
 * ({@code GrpcConfigKeys.TLS.setConf}), the default for its server, admin and client ports; the
 * {@code raft.grpc.tls.*} properties are not read. Both directions accept only certificates of
 * role {@code node} from the cluster CA, so a process without a node certificate can neither
 * join a group's traffic nor manage groups on the Ratis port.
 */
public final class RaftTls {
  private RaftTls() {
  }

  /** The parameters for a server or client of this node: TLS when {@code tls} is set, else none. */
  public static Parameters parameters(TlsIdentity tls) {
    Parameters p = new Parameters();
    if (tls != null) {
      GrpcConfigKeys.TLS.setConf(p, new GrpcTlsConfig(tls.keyManager(), tls.trustManager(Set.of(Role.NODE)), true));
    }
    return p;
  }
}
