package io.joinflow.cli;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.HandlerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC proxy on loopback in front of a real server: forwards every call byte for byte, records
 * each call's method and headers, and answers the methods it is told to deny with
 * PERMISSION_DENIED without forwarding them (what Temporal Cloud answers an SDK client that adds
 * search attributes).
 */
final class RecordingProxy implements AutoCloseable {
  /** One call as the proxy saw it. */
  record Call(String method, Metadata headers) {
    String header(String name) {
      return headers.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
    }
  }

  private final ManagedChannel backend;
  private final Server server;
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Set<String> denied = ConcurrentHashMap.newKeySet();

  RecordingProxy(String backendTarget) throws IOException {
    this.backend = NettyChannelBuilder.forTarget(backendTarget).usePlaintext().build();
    this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .fallbackHandlerRegistry(new HandlerRegistry() {
          @Override
          public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
            MethodDescriptor<byte[], byte[]> method = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setFullMethodName(methodName).setType(MethodDescriptor.MethodType.UNKNOWN)
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
            return ServerMethodDefinition.create(method, (call, headers) -> forward(method, call, headers));
          }
        })
        .build().start();
  }

  String target() {
    return "127.0.0.1:" + server.getPort();
  }

  /** Answers calls of this method (e.g. {@code temporal.api.operatorservice.v1.OperatorService/AddSearchAttributes}) PERMISSION_DENIED. */
  void deny(String fullMethodName) {
    denied.add(fullMethodName);
  }

  List<Call> calls() {
    return List.copyOf(calls);
  }

  List<Call> callsOf(String service) {
    return calls.stream().filter(c -> c.method().startsWith(service + "/")).toList();
  }

  private ServerCall.Listener<byte[]> forward(MethodDescriptor<byte[], byte[]> method, ServerCall<byte[], byte[]> call,
                                              Metadata headers) {
    calls.add(new Call(method.getFullMethodName(), headers));
    if (denied.contains(method.getFullMethodName())) {
      call.close(Status.PERMISSION_DENIED.withDescription("Request unauthorized."), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    ClientCall<byte[], byte[]> out = backend.newCall(method, CallOptions.DEFAULT);
    out.start(new ClientCall.Listener<>() {
      @Override
      public void onHeaders(Metadata h) {
        call.sendHeaders(h);
      }

      @Override
      public void onMessage(byte[] message) {
        call.sendMessage(message);
        out.request(1);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        call.close(status, trailers);
      }
    }, headers);
    out.request(1);
    call.request(1);
    return new ServerCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        out.sendMessage(message);
        call.request(1);
      }

      @Override
      public void onHalfClose() {
        out.halfClose();
      }

      @Override
      public void onCancel() {
        out.cancel("client cancelled", null);
      }
    };
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    backend.shutdownNow();
  }

  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };
}
