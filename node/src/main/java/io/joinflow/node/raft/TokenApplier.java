package io.joinflow.node.raft;

import io.grpc.Status;
import io.joinflow.node.raft.MetadataApplier.Outcome;
import io.joinflow.proto.v1.IssueToken;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.SetTokenState;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TokenState;
import io.joinflow.security.JoinToken;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Group 0's join tokens: issuing one and compare-and-setting its state. Pure like
 * {@link MetadataApplier}: time is the {@code now_millis} each command carries, so every member
 * judges expiry alike. The collection is bounded: at most {@link #MAX_LIVE_TOKENS} tokens that
 * can still start a join, and at most {@link #MAX_DEAD_TOKENS} used, revoked or expired ones
 * (the oldest are pruned when a token is issued).
 */
final class TokenApplier {
  /** Tokens that can still start or finish a join: ISSUED and unexpired, or IN_FLIGHT. */
  static final int MAX_LIVE_TOKENS = 1024;
  /** Used, revoked and expired tokens kept for listing; older ones are dropped. */
  static final int MAX_DEAD_TOKENS = 256;

  private TokenApplier() {}

  static Outcome issue(MetadataState state, IssueToken issue) {
    TokenRecord t = issue.getToken();
    long now = issue.getNowMillis();
    if (!JoinToken.isId(t.getId())) {
      return MetadataApplier.reject(state, Status.Code.INVALID_ARGUMENT, "a token id is 6 lower-case letters or digits");
    }
    if (t.getSecretSha256().size() != 32) {
      return MetadataApplier.reject(state, Status.Code.INVALID_ARGUMENT, "token " + t.getId()
          + " needs the 32-byte SHA-256 of its secret");
    }
    if (t.getNodeId() == 0) {
      return MetadataApplier.reject(state, Status.Code.INVALID_ARGUMENT, "token " + t.getId()
          + " must be bound to a non-zero node id");
    }
    if (t.getState() != TokenState.TOKEN_ISSUED || !t.getWorkflowId().isEmpty()) {
      return MetadataApplier.reject(state, Status.Code.INVALID_ARGUMENT, "a new token is ISSUED and held by no join");
    }
    if (t.getExpiresAtMillis() <= now) {
      return MetadataApplier.reject(state, Status.Code.INVALID_ARGUMENT, "token " + t.getId()
          + " would expire before it is issued; give it a positive time to live");
    }
    TokenRecord existing = find(state, t.getId());
    if (existing != null) {
      if (existing.toBuilder().clearCreatedAtMillis().clearUpdatedAtMillis().build()
          .equals(t.toBuilder().clearCreatedAtMillis().clearUpdatedAtMillis().build())) {
        return MetadataApplier.unchanged(state);
      }
      return MetadataApplier.reject(state, Status.Code.ALREADY_EXISTS, "token id " + t.getId()
          + " is taken; create the token again");
    }
    List<TokenRecord> live = new ArrayList<>();
    List<TokenRecord> dead = new ArrayList<>();
    for (TokenRecord r : state.getTokensList()) {
      (isLive(r, now) ? live : dead).add(r);
    }
    if (live.size() >= MAX_LIVE_TOKENS) {
      return MetadataApplier.reject(state, Status.Code.RESOURCE_EXHAUSTED, MAX_LIVE_TOKENS
          + " join tokens can still be used; revoke unused ones (joinflow token list, joinflow token revoke) first");
    }
    // Newest first among the dead; keep the bound, drop the oldest.
    dead.sort(Comparator.comparingLong(TokenRecord::getUpdatedAtMillis).reversed()
        .thenComparing(TokenRecord::getId));
    List<TokenRecord> kept = new ArrayList<>(live);
    kept.addAll(dead.subList(0, Math.min(dead.size(), MAX_DEAD_TOKENS)));
    kept.add(t.toBuilder().setCreatedAtMillis(now).setUpdatedAtMillis(now).build());
    kept.sort(Comparator.comparing(TokenRecord::getId));
    return MetadataApplier.changed(state.toBuilder().clearTokens().addAllTokens(kept).build());
  }

  static Outcome setState(MetadataState state, SetTokenState s) {
    TokenRecord t = find(state, s.getId());
    if (t == null) {
      return MetadataApplier.reject(state, Status.Code.NOT_FOUND, "no join token " + s.getId());
    }
    TokenState next = s.getNext();
    String workflow = next == TokenState.TOKEN_IN_FLIGHT ? s.getWorkflowId()
        : next == TokenState.TOKEN_CONSUMED ? t.getWorkflowId() : "";
    if (!allowed(s.getExpected(), next)) {
      return MetadataApplier.reject(state, Status.Code.INVALID_ARGUMENT, "a token does not go from "
          + label(s.getExpected()) + " to " + label(next));
    }
    boolean sameHolder = s.getExpectedWorkflowId().isEmpty() || s.getExpectedWorkflowId().equals(t.getWorkflowId());
    if (t.getState() == next && (next == TokenState.TOKEN_IN_FLIGHT ? t.getWorkflowId().equals(workflow)
        : next != TokenState.TOKEN_CONSUMED || sameHolder)) {
      // Already in effect: a retried proposal, or the same join asking again.
      return MetadataApplier.unchanged(state);
    }
    if (next == TokenState.TOKEN_IN_FLIGHT && workflow.isEmpty()) {
      return MetadataApplier.reject(state, Status.Code.INVALID_ARGUMENT, "a token in flight needs the workflow that holds it");
    }
    if (t.getState() != s.getExpected() || !sameHolder) {
      return MetadataApplier.reject(state, Status.Code.FAILED_PRECONDITION, "join token " + t.getId() + " is "
          + label(t.getState()) + (t.getWorkflowId().isEmpty() ? "" : " (" + t.getWorkflowId() + ")") + ", not "
          + label(s.getExpected()) + (s.getExpectedWorkflowId().isEmpty() ? "" : " (" + s.getExpectedWorkflowId() + ")"));
    }
    if (next == TokenState.TOKEN_IN_FLIGHT && t.getExpiresAtMillis() <= s.getNowMillis()) {
      return MetadataApplier.reject(state, Status.Code.FAILED_PRECONDITION, "join token " + t.getId() + " has expired");
    }
    TokenRecord updated = t.toBuilder().setState(next).setWorkflowId(workflow).setUpdatedAtMillis(s.getNowMillis())
        .build();
    MetadataState.Builder b = state.toBuilder();
    for (int i = 0; i < b.getTokensCount(); i++) {
      if (b.getTokens(i).getId().equals(t.getId())) {
        b.setTokens(i, updated);
      }
    }
    return MetadataApplier.changed(b.build());
  }

  private static boolean allowed(TokenState from, TokenState to) {
    return switch (to) {
      case TOKEN_IN_FLIGHT -> from == TokenState.TOKEN_ISSUED;
      case TOKEN_CONSUMED, TOKEN_ISSUED -> from == TokenState.TOKEN_IN_FLIGHT;
      case TOKEN_REVOKED -> from == TokenState.TOKEN_ISSUED || from == TokenState.TOKEN_IN_FLIGHT;
      default -> false;
    };
  }

  /** Whether a token can still start or finish a join at {@code now}. */
  static boolean isLive(TokenRecord t, long now) {
    return t.getState() == TokenState.TOKEN_IN_FLIGHT
        || (t.getState() == TokenState.TOKEN_ISSUED && t.getExpiresAtMillis() > now);
  }

  static TokenRecord find(MetadataState state, String id) {
    for (TokenRecord t : state.getTokensList()) {
      if (t.getId().equals(id)) {
        return t;
      }
    }
    return null;
  }

  static String label(TokenState s) {
    return switch (s) {
      case TOKEN_ISSUED -> "ISSUED";
      case TOKEN_IN_FLIGHT -> "IN_FLIGHT";
      case TOKEN_CONSUMED -> "CONSUMED";
      case TOKEN_REVOKED -> "REVOKED";
      default -> s.name();
    };
  }
}
