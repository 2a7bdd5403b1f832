package io.joinflow.node.membership;

import java.io.IOException;

/** How membership code calls Ratis' client: one place that turns its transport failures into I/O failures. */
final class RatisCalls {
  private RatisCalls() {}

  @FunctionalInterface
  interface RatisCall<T> {
    T run() throws IOException;
  }

  /**
   * Runs a Ratis client call. Its gRPC transport throws an unchecked (shaded) status exception
   * when a peer refuses the connection or the call fails on the server; that is an I/O failure
   * of the call like any other, and its status (kept as the cause) says which.
   */
  static <T> T call(RatisCall<T> c) throws IOException {
    try {
      return c.run();
    } catch (org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException e) {
      throw new IOException(e.getMessage(), e);
    }
  }
}
