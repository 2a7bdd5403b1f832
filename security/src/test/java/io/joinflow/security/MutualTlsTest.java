package io.joinflow.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real TLS on loopback: a server that requires client certificates and authorizes by role. */
class MutualTlsTest {
  @TempDir
  Path dir;

  private CertsDir certs;
  private Server server;
  private final List<ManagedChannel> channels = new java.util.ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    certs = new CertsDir(dir.resolve("certs"));
    certs.createCa("c1");
    certs.issue(Role.NODE, 1, List.of("127.0.0.1"));
    certs.issue(Role.WORKER, 0, List.of());
    certs.issue(Role.OPERATOR, 0, List.of());
    TlsIdentity node = certs.identity(Role.NODE, 1);
    Authorization rules = Authorization.forServices("c1", HealthGrpc.getServiceDescriptor())
        .allow(Set.of(Role.WORKER), HealthGrpc.getCheckMethod())
        .allow(EnumSet.allOf(Role.class), HealthGrpc.getWatchMethod())
        .build();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(node.serverContext())
        .addService(new HealthStatusManager().getHealthService())
        .intercept(rules)
        .build().start();
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }

  private HealthGrpc.HealthBlockingStub stub(NettyChannelBuilder b) {
    ManagedChannel ch = b.build();
    channels.add(ch);
    return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private NettyChannelBuilder to() {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.getPort());
  }

  @Test
  void aCallerOfTheRightRoleIsServed() throws Exception {
    HealthCheckResponse r = stub(to().sslContext(certs.identity(Role.WORKER, 0).clientContext()))
        .check(HealthCheckRequest.getDefaultInstance());
    assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void aCallerOfAnotherRoleIsToldWhichRoleItNeeds() throws Exception {
    var operator = stub(to().sslContext(certs.identity(Role.OPERATOR, 0).clientContext()));
    assertThatThrownBy(() -> operator.check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription())
              .isEqualTo("grpc.health.v1.Health/Check needs a certificate of role worker; the caller is operator of c1");
        });
  }

  @Test
  void plaintextCallersAreRefused() {
    var plaintext = stub(to().usePlaintext());
    assertThatThrownBy(() -> plaintext.check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void aCallerWithoutAClientCertificateIsRefused() throws Exception {
    var anonymous = stub(to().sslContext(GrpcSslContexts.forClient()
        .trustManager(certs.identity(Role.WORKER, 0).ca()).build()));
    assertThatThrownBy(() -> anonymous.check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void aCertificateFromAnotherCaIsRefused() throws Exception {
    CertsDir other = new CertsDir(dir.resolve("other"));
    other.createCa("c1");
    other.issue(Role.WORKER, 0, List.of());
    TlsIdentity stranger = other.identity(Role.WORKER, 0);
    // The stranger even trusts the real CA, so only the server's check of its certificate refuses it.
    var b = to().sslContext(GrpcSslContexts.forClient().keyManager(stranger.key(), stranger.certificate())
        .trustManager(certs.identity(Role.WORKER, 0).ca()).build());
    assertThatThrownBy(() -> stub(b).check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void aServerWithoutARuleForSomeMethodDoesNotBuild() {
    assertThatThrownBy(() -> Authorization.forServices("c1", HealthGrpc.getServiceDescriptor())
        .allow(Set.of(Role.WORKER), HealthGrpc.getCheckMethod()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("grpc.health.v1.Health/Watch");
  }
}
