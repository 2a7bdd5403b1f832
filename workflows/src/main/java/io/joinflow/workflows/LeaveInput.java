package io.joinflow.workflows;

/**
 * @param fanOut how many groups are left at once (0 = default 16)
 */
public record LeaveInput(long nodeId, long clusterId, int fanOut) {}
