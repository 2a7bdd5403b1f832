package io.joinflow.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one registry at {@code http://HOST:PORT/metrics} in the Prometheus text format
 * (version 0.0.4), with the JDK's HTTP server on one daemon thread: scrapes are rare and
 * small, and a process that stops takes the endpoint with it ({@link #close}, or the JVM ending).
 */
public final class MetricsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
  /** What Prometheus expects of the text format. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;
  private final String url;

  private MetricsServer(HttpServer server, ExecutorService executor, String host) {
    this.server = server;
    this.executor = executor;
    this.url = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.getAddress().getPort()
        + "/metrics";
  }

  /**
   * Listens on {@code host:port} (port 0: any free port).
   *
   * @throws IOException with a sentence naming the address when it cannot be bound
   */
  public static MetricsServer start(String host, int port, PrometheusMeterRegistry registry) throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + host + ":" + port + " (" + e.getMessage()
          + "); pass a free --metrics-listen HOST:PORT", e);
    }
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "metrics-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", exchange -> {
      try (exchange) {
        handle(exchange, registry);
      } catch (IOException | RuntimeException e) {
        LOG.warn("metrics: answering {} failed: {}", exchange.getRequestURI(), e.toString());
      }
    });
    server.start();
    return new MetricsServer(server, executor, host);
  }

  private static void handle(HttpExchange exchange, PrometheusMeterRegistry registry) throws IOException {
    String method = exchange.getRequestMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      exchange.getResponseHeaders().set("Allow", "GET, HEAD");
      exchange.sendResponseHeaders(405, -1);
      return;
    }
    String path = exchange.getRequestURI().getPath();
    if (!path.equals("/metrics")) {
      byte[] body = "joinflow serves its metrics at /metrics\n".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(404, body.length);
      exchange.getResponseBody().write(body);
      return;
    }
    byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
    if (method.equals("HEAD")) {
      exchange.sendResponseHeaders(200, -1);
      return;
    }
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  /** Where Prometheus scrapes this process, e.g. {@code http://127.0.0.1:7105/metrics}. */
  public String url() {
    return url;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
