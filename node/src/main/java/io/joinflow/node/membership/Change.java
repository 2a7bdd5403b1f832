package io.joinflow.node.membership;

/**
 * The result of a membership change.
 *
 * @param changed whether this call changed the configuration (false: it already held the target)
 * @param conf the configuration afterwards
 * @param attempts compare-and-set attempts made
 */
public record Change(boolean changed, Conf conf, int attempts) {}
