package io.joinflow.node.testing;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of integration tests that start one {@link MiniCluster} per test: when a test fails, the
 * cluster's state (running nodes, each group's leader and configuration) is logged while the
 * cluster still runs; afterwards the cluster is always closed.
 */
public abstract class MiniClusterTest {
  private static final Logger LOG = LoggerFactory.getLogger(MiniClusterTest.class);

  protected MiniCluster cluster;

  /** Runs after the test body and before {@code @AfterEach}, so the cluster is still up. */
  @RegisterExtension
  final AfterTestExecutionCallback describeOnFailure = context ->
      context.getExecutionException().ifPresent(failure -> {
        if (cluster != null) {
          LOG.error("{} failed: {}\n{}", context.getDisplayName(), failure, cluster.describe());
        }
      });

  @AfterEach
  protected void closeCluster() {
    if (cluster != null) {
      cluster.close();
      cluster = null;
    }
  }
}
