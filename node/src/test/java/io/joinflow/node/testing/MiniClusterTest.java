package io.joinflow.node.testing;

import org.junit.jupiter.api.AfterEach;

/** Base of integration tests that start one {@link MiniCluster} per test and always stop it. */
public abstract class MiniClusterTest {
  protected MiniCluster cluster;

  @AfterEach
  protected void closeCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }
}
