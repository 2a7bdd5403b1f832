package io.joinflow.worker;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.HandlerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Exposes an in-process gRPC channel on a loopback port, forwarding every call byte for byte.
 * The embedded Temporal server would otherwise listen on all interfaces (TEMPORAL.md); through
 * this front, only processes of this machine reach it.
 */
final class LoopbackFront implements AutoCloseable {
  private final Server server;

  LoopbackFront(String host, int port, ManagedChannel backend) throws IOException {
    this.server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
        .fallbackHandlerRegistry(new ForwardingRegistry(backend))
        .build()
        .start();
  }

  int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final class ForwardingRegistry extends HandlerRegistry {
    private final ManagedChannel backend;

    ForwardingRegistry(ManagedChannel backend) {
      this.backend = backend;
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
      MethodDescriptor<byte[], byte[]> method = MethodDescriptor.<byte[], byte[]>newBuilder()
          .setFullMethodName(methodName)
          .setType(MethodDescriptor.MethodType.UNKNOWN)
          .setRequestMarshaller(BYTES)
          .setResponseMarshaller(BYTES)
          .build();
      return ServerMethodDefinition.create(method, new Forward(backend, method));
    }
  }

  private record Forward(ManagedChannel backend, MethodDescriptor<byte[], byte[]> method)
      implements ServerCallHandler<byte[], byte[]> {
    @Override
    public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> serverCall, Metadata headers) {
      ClientCall<byte[], byte[]> clientCall = backend.newCall(method, CallOptions.DEFAULT);
      clientCall.start(new ClientCall.Listener<>() {
        @Override
        public void onHeaders(Metadata h) {
          serverCall.sendHeaders(h);
        }

        @Override
        public void onMessage(byte[] message) {
          serverCall.sendMessage(message);
          serverCall.request(1);
          clientCall.request(1);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          serverCall.close(status, trailers);
        }
      }, headers);
      clientCall.request(1);
      serverCall.request(1);
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(byte[] message) {
          clientCall.sendMessage(message);
        }

        @Override
        public void onHalfClose() {
          clientCall.halfClose();
        }

        @Override
        public void onCancel() {
          clientCall.cancel("client cancelled", null);
        }
      };
    }
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
