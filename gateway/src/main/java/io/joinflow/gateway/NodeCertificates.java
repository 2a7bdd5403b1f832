package io.joinflow.gateway;

import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.BootstrapRequest;
import io.joinflow.proto.v1.BootstrapResponse;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TokenState;
import io.joinflow.security.CertificateAuthority;
import io.joinflow.security.CertsDir;
import io.joinflow.security.PeerIdentity;
import io.joinflow.security.Role;
import io.joinflow.workflows.JoinWorkflow;
import java.security.cert.X509Certificate;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bootstrap: an empty node that holds a join token, and no certificate yet, gets a node
 * certificate for the public key of its certificate request. The token is checked exactly as a
 * Join checks it but not claimed: the Join that follows, over mutual TLS with this certificate,
 * consumes it. The certificate names the token's node id and the node's listen host.
 */
final class NodeCertificates {
  private static final Logger LOG = LoggerFactory.getLogger(NodeCertificates.class);

  private final CertificateAuthority ca;
  private final JoinTokens tokens;
  private final ClusterId clusterId;

  /** @param ca null when this gateway holds no CA key */
  NodeCertificates(CertificateAuthority ca, JoinTokens tokens, ClusterId clusterId) {
    this.ca = ca;
    this.tokens = tokens;
    this.clusterId = clusterId;
  }

  BootstrapResponse bootstrap(BootstrapRequest request) throws StatusException {
    if (ca == null) {
      throw Status.FAILED_PRECONDITION.withDescription("this gateway holds no CA key, so it cannot sign a"
          + " certificate: issue the node's certificate with `joinflow cert create-node` where the CA key lives and"
          + " start the node with --certs-dir, or run the gateway with a --certs-dir that holds ca.key").asException();
    }
    JoinRequests.requireNodeId(request.getNodeId());
    String listenAddr = JoinRequests.listenAddr(request.getListenAddr());
    String workflowId = JoinWorkflow.workflowId(clusterId.require(), request.getNodeId());
    TokenRecord t = tokens.check(request.getToken(), request.getNodeId(), workflowId, true);
    if (t.getState() == TokenState.TOKEN_CONSUMED) {
      throw JoinTokens.usedBy(t, Long.toUnsignedString(request.getNodeId()));
    }
    PeerIdentity who = new PeerIdentity(ca.cluster(), Role.NODE, request.getNodeId());
    X509Certificate cert;
    try {
      cert = ca.sign(who, request.getCsr().toByteArray(), List.of(HostPort.parse(listenAddr).host()),
          CertsDir.CERT_VALIDITY);
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()
          + "; joinflow node makes a valid request itself when started with --token and --ca-hash").asException();
    }
    LOG.info("node {}: signed its node certificate for {} (join token {})", Long.toUnsignedString(request.getNodeId()),
        listenAddr, t.getId());
    return BootstrapResponse.newBuilder().setCertificatePem(CertificateAuthority.pem(cert))
        .setCaPem(CertificateAuthority.pem(ca.certificate())).build();
  }
}
