package io.joinflow.cli;

/** How a benchmark joins a node: the product, and the two baselines it is compared with. */
enum BenchMode {
  /** Through the gateway and the join workflow, exactly as a real node joins. */
  WORKFLOW("workflow"),
  /**
   * What the Raft substrate needs at least: host the division and compare-and-set the learner
   * in, then wait for it to catch up, for all groups at once (no fan-out bound); no workflow,
   * no topology.
   */
  DIRECT("direct"),
  /** The seed's algorithm: add the learner to one group after another, then wait for each in turn. */
  SEQUENTIAL("sequential");

  private final String label;

  BenchMode(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }
}
