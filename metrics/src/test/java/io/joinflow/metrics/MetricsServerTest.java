package io.joinflow.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MetricsServerTest {

  @Test
  void shouldServeGrpcCallsAndHistogramsInTheTextFormat() throws Exception {
    PrometheusMeterRegistry registry = JoinflowRegistry.create();
    HealthStatusManager health = new HealthStatusManager();
    Server server = InProcessServerBuilder.forName("metrics-test").directExecutor()
        .addService(health.getHealthService()).intercept(new GrpcServerMetrics(registry)).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName("metrics-test").directExecutor().build();
    Timer.builder("joinflow_test_duration").register(registry).record(Duration.ofMillis(300));
    try (MetricsServer metrics = MetricsServer.start("127.0.0.1", 0, registry)) {
      HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());

      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(metrics.url())).build(),
          HttpResponse.BodyHandlers.ofString());

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).contains(MetricsServer.CONTENT_TYPE);
      assertThat(r.body())
          .contains("joinflow_grpc_server_started_total{grpc_method=\"Check\",grpc_service=\"grpc.health.v1.Health\"} 1")
          .contains("joinflow_grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Check\","
              + "grpc_service=\"grpc.health.v1.Health\"} 1")
          .contains("joinflow_grpc_server_handling_seconds_bucket{grpc_method=\"Check\"")
          .contains("joinflow_test_duration_seconds_bucket{le=\"0.25\"} 0")
          .contains("joinflow_test_duration_seconds_bucket{le=\"0.5\"} 1")
          .contains("jvm_memory_used_bytes");
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  @Test
  void shouldAnswerNotFoundBesideMetricsAndStopWithClose() throws Exception {
    PrometheusMeterRegistry registry = JoinflowRegistry.create();
    MetricsServer metrics = MetricsServer.start("127.0.0.1", 0, registry);
    HttpClient http = HttpClient.newHttpClient();
    URI other = URI.create(metrics.url().replace("/metrics", "/other"));
    assertThat(http.send(HttpRequest.newBuilder(other).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(404);

    metrics.close();

    try (java.net.Socket s = new java.net.Socket()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.connect(
          new java.net.InetSocketAddress("127.0.0.1", metrics.port()), 1000)).isInstanceOf(java.io.IOException.class);
    }
  }
}
