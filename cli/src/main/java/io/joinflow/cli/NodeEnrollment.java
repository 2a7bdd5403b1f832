package io.joinflow.cli;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.joinflow.proto.v1.BootstrapRequest;
import io.joinflow.proto.v1.BootstrapResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.security.CaPin;
import io.joinflow.security.CertsDir;
import io.joinflow.security.Enrollment;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509TrustManager;

/**
 * An empty node without a certificate gets one from a gateway with its join token (kubeadm's
 * TLS bootstrap): it trusts the gateway only if the gateway's chain holds the CA pinned by
 * {@code --ca-hash}, sends a certificate request for a key it made itself, and writes key,
 * certificate and CA certificate into its certificates directory.
 */
final class NodeEnrollment {
  /** How long a node keeps trying gateways that cannot be reached. */
  static final Duration RETRY_FOR = Duration.ofMinutes(2);

  /** Why the node could not get a certificate: the message says what to fix. */
  static final class EnrollmentException extends Exception {
    EnrollmentException(String message) {
      super(message);
    }
  }

  private NodeEnrollment() {}

  static void enroll(long nodeId, String listenAddr, List<String> gateways, String token, CaPin pin, CertsDir dir,
                     Consumer<String> log) throws EnrollmentException, IOException, InterruptedException {
    Enrollment enrollment = Enrollment.start(nodeId);
    BootstrapRequest request = BootstrapRequest.newBuilder().setNodeId(nodeId).setListenAddr(listenAddr)
        .setToken(token).setCsr(ByteString.copyFrom(enrollment.csr())).build();
    long deadline = System.nanoTime() + RETRY_FOR.toNanos();
    long backoffMs = 500;
    while (true) {
      for (String gateway : gateways) {
        AtomicReference<X509Certificate> ca = new AtomicReference<>();
        AtomicReference<String> distrust = new AtomicReference<>();
        ManagedChannel channel = channel(gateway, pin, ca, distrust);
        try {
          BootstrapResponse r = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
              .bootstrap(request);
          enrollment.finish(dir, pin, r.getCertificatePem(), r.getCaPem());
          log.accept("node " + Long.toUnsignedString(nodeId) + ": certificate from gateway " + gateway + " written to "
              + dir.path());
          return;
        } catch (StatusRuntimeException e) {
          if (distrust.get() != null) {
            throw new EnrollmentException("gateway " + gateway + " is not trusted: " + distrust.get());
          }
          // UNAVAILABLE: unreachable; RESOURCE_EXHAUSTED: Bootstrap's rate limit. Both say ask again.
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
              && e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
            throw new EnrollmentException("bootstrap refused by gateway " + gateway + ": " + e.getStatus().getCode()
                + " " + e.getStatus().getDescription());
          }
          log.accept("gateway " + gateway + " unavailable: " + e.getStatus().getDescription());
        } finally {
          channel.shutdownNow();
        }
      }
      if (System.nanoTime() > deadline) {
        throw new EnrollmentException("no gateway of " + gateways + " answered Bootstrap within "
            + RETRY_FOR.toSeconds() + " s");
      }
      Thread.sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 5_000);
    }
  }

  private static ManagedChannel channel(String gateway, CaPin pin, AtomicReference<X509Certificate> ca,
                                        AtomicReference<String> distrust) throws IOException {
    X509TrustManager pinned = pin.trustManager(ca);
    X509TrustManager recording = new X509TrustManager() {
      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
          pinned.checkServerTrusted(chain, authType);
        } catch (CertificateException e) {
          distrust.set(e.getMessage());
          throw e;
        }
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pinned.checkClientTrusted(chain, authType);
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return pinned.getAcceptedIssuers();
      }
    };
    try {
      // No client certificate: Bootstrap is the one method a gateway serves to callers without one.
      return NettyChannelBuilder.forTarget(gateway).sslContext(GrpcSslContexts.forClient().trustManager(recording)
          .build()).build();
    } catch (SSLException e) {
      throw new IOException("cannot build the TLS context for Bootstrap: " + e.getMessage(), e);
    }
  }
}
