package io.joinflow.workflows;

import io.temporal.common.SearchAttributeKey;

/** Typed search attributes of join workflows; registered on the namespace at worker start. */
public final class JoinSearchAttributes {
  public static final SearchAttributeKey<Long> NODE_ID = SearchAttributeKey.forLong("JoinNodeId");
  public static final SearchAttributeKey<String> PHASE = SearchAttributeKey.forKeyword("JoinPhase");

  private JoinSearchAttributes() {}
}
