package io.joinflow.workflows;

/** What a promotion needs: the node, the cluster it belongs to, and its tunables. */
public record PromoteInput(long nodeId, long clusterId, PromoteOptions options) {}
