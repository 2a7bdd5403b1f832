package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.joinflow.proto.v1.ClusterView;
import io.joinflow.proto.v1.GetClusterViewRequest;
import io.joinflow.proto.v1.NodeAdminGrpc;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class StatusCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private Server server;

  @AfterEach
  void stopServer() throws InterruptedException {
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private int run(String... args) {
    CommandLine cli = new CommandLine(new StatusCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  /** A NodeAdmin that answers GetClusterView with the shared hand-built view. */
  private String fakeNode() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new NodeAdminGrpc.NodeAdminImplBase() {
          @Override
          public void getClusterView(GetClusterViewRequest request, StreamObserver<ClusterView> o) {
            o.onNext(ClusterViews.twoNodes());
            o.onCompleted();
          }
        })
        .build()
        .start();
    return "127.0.0.1:" + server.getPort();
  }

  @Test
  void printsTheViewAsOneJsonObject() throws Exception {
    int code = run("--target", fakeNode(), "--json");

    assertThat(code).isZero();
    assertThat(err.toString()).isEmpty();
    assertThat(out.toString().lines()).hasSize(1);
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertThat(json.get("cluster_id").asText()).isEqualTo("18446744073709551614");
    assertThat(json.get("nodes")).hasSize(2);
    assertThat(json.get("groups")).hasSize(2);
  }

  @Test
  void printsTheViewAsATable() throws Exception {
    int code = run("--target", fakeNode());

    assertThat(code).isZero();
    assertThat(out.toString()).isEqualTo(ClusterTable.render(ClusterViews.twoNodes()));
  }

  @Test
  void reportsUnavailableWhenNothingListens() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String target = "127.0.0.1:" + port;

    int code = run("--target", target, "--timeout-seconds", "5");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).startsWith("joinflow status: " + target + ": UNAVAILABLE");
    assertThat(err.toString().lines()).hasSize(1);
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void malformedTargetIsBadInput() {
    int code = run("--target", "nowhere");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(
        "joinflow status: --target: 'nowhere' is not host:port" + System.lineSeparator());
  }
}
