package io.joinflow.gateway;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusException;
import io.joinflow.proto.v1.ChangeTokenRequest;
import io.joinflow.proto.v1.CreateTokenRequest;
import io.joinflow.proto.v1.CreateTokenResponse;
import io.joinflow.proto.v1.IssueToken;
import io.joinflow.proto.v1.ListTokensResponse;
import io.joinflow.proto.v1.RevokeTokenRequest;
import io.joinflow.proto.v1.RevokeTokenResponse;
import io.joinflow.proto.v1.SetTokenState;
import io.joinflow.proto.v1.TokenInfo;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TokenState;
import io.joinflow.security.JoinToken;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Join tokens at the gateway: operators create, list and revoke them; Join and Bootstrap check
 * the one a node presents before anything starts, and Join claims it for the node's workflow
 * (ISSUED → IN_FLIGHT by compare-and-set in group 0, so one token admits one join). The secret
 * is compared as its SHA-256, in constant time, and appears in no log line, error or workflow.
 */
final class JoinTokens {
  private static final Logger LOG = LoggerFactory.getLogger(JoinTokens.class);
  static final Duration DEFAULT_TTL = Duration.ofHours(1);
  static final Duration MAX_TTL = Duration.ofDays(7);
  private static final int CLAIM_ATTEMPTS = 3;

  private final ClusterMetadataSource source;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final boolean required;

  JoinTokens(ClusterMetadataSource source, Clock clock, boolean required) {
    this.source = source;
    this.clock = clock;
    this.required = required;
  }

  boolean required() {
    return required;
  }

  CreateTokenResponse create(CreateTokenRequest request) throws StatusException {
    JoinRequests.requireNodeId(request.getNodeId());
    Duration ttl = request.getTtlSeconds() == 0 ? DEFAULT_TTL : Duration.ofSeconds(request.getTtlSeconds());
    if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
      throw Status.INVALID_ARGUMENT.withDescription("ttl must be between 1 second and " + MAX_TTL.toDays()
          + " days, not " + request.getTtlSeconds() + " s").asException();
    }
    JoinToken token = JoinToken.generate(random);
    long now = clock.millis();
    long expires = now + ttl.toMillis();
    source.changeToken(ChangeTokenRequest.newBuilder().setIssue(IssueToken.newBuilder().setNowMillis(now)
        .setToken(TokenRecord.newBuilder().setId(token.id()).setSecretSha256(ByteString.copyFrom(token.secretHash()))
            .setNodeId(request.getNodeId()).setExpiresAtMillis(expires).setState(TokenState.TOKEN_ISSUED))).build());
    LOG.info("node {}: join token {} issued, valid until {}", Long.toUnsignedString(request.getNodeId()), token.id(),
        Instant.ofEpochMilli(expires));
    return CreateTokenResponse.newBuilder().setToken(token.reveal()).setId(token.id())
        .setNodeId(request.getNodeId()).setExpiresAtMillis(expires).build();
  }

  ListTokensResponse list() throws StatusException {
    long now = clock.millis();
    ListTokensResponse.Builder b = ListTokensResponse.newBuilder();
    source.tokens().forEach(t -> b.addTokens(info(t, now)));
    return b.build();
  }

  RevokeTokenResponse revoke(RevokeTokenRequest request) throws StatusException {
    if (!JoinToken.isId(request.getId())) {
      throw Status.INVALID_ARGUMENT.withDescription("a token id is 6 lower-case letters or digits, the part of the"
          + " token before the dot (joinflow token list shows them)").asException();
    }
    for (int attempt = 1; ; attempt++) {
      TokenRecord t = find(request.getId());
      if (t == null) {
        throw Status.NOT_FOUND.withDescription("no join token " + request.getId() + " (joinflow token list shows"
            + " the tokens there are)").asException();
      }
      long now = clock.millis();
      switch (t.getState()) {
        case TOKEN_REVOKED:
          return RevokeTokenResponse.newBuilder().setToken(info(t, now)).setAlreadyRevoked(true).build();
        case TOKEN_CONSUMED:
          throw Status.FAILED_PRECONDITION.withDescription("join token " + t.getId() + " was already used by "
              + t.getWorkflowId() + "; to undo that join, let the node leave (joinflow leave)").asException();
        default:
          break;
      }
      try {
        source.changeToken(ChangeTokenRequest.newBuilder().setSetState(SetTokenState.newBuilder().setId(t.getId())
            .setExpected(t.getState()).setExpectedWorkflowId(t.getWorkflowId()).setNext(TokenState.TOKEN_REVOKED)
            .setNowMillis(now)).build());
      } catch (StatusException e) {
        if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION && attempt < CLAIM_ATTEMPTS) {
          continue;
        }
        throw e;
      }
      LOG.info("node {}: join token {} revoked", Long.toUnsignedString(t.getNodeId()), t.getId());
      return RevokeTokenResponse.newBuilder().setToken(info(find(t.getId()), now)).build();
    }
  }

  /**
   * The stored token a node presents, checked: the secret matches, the token is bound to
   * {@code nodeId}, is not revoked, and is either ISSUED and unexpired or IN_FLIGHT for this
   * node's own {@code workflowId} (a retried or resumed join). A CONSUMED token of this node is
   * returned as it is: only an answer from the join that used it may follow.
   *
   * @return null when the request carries no token and none is required
   * @throws StatusException UNAUTHENTICATED (missing), INVALID_ARGUMENT (malformed) or
   *     PERMISSION_DENIED (wrong, another node's, revoked, expired, held by another join)
   */
  TokenRecord check(String text, long nodeId, String workflowId, boolean mustHave) throws StatusException {
    String node = Long.toUnsignedString(nodeId);
    if (text == null || text.isBlank()) {
      if (!mustHave && !required) {
        return null;
      }
      throw Status.UNAUTHENTICATED.withDescription("node " + node + " has no join token: this gateway admits a node"
          + " only with one; pass --token from `joinflow token create --node-id " + node + "`").asException();
    }
    JoinToken token;
    try {
      token = JoinToken.parse(text);
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription("the join token is wrong: " + e.getMessage()).asException();
    }
    TokenRecord t = find(token.id());
    if (t == null || !token.matches(t.getSecretSha256().toByteArray())) {
      // One answer for an unknown id and a wrong secret: the answer must not tell which ids exist.
      throw Status.PERMISSION_DENIED.withDescription("the join token is wrong: no token has this id and secret;"
          + " create one with `joinflow token create --node-id " + node + "`").asException();
    }
    if (t.getNodeId() != nodeId) {
      throw Status.PERMISSION_DENIED.withDescription("join token " + t.getId() + " is for node "
          + Long.toUnsignedString(t.getNodeId()) + ", not node " + node + "; create one with"
          + " `joinflow token create --node-id " + node + "`").asException();
    }
    switch (t.getState()) {
      case TOKEN_REVOKED:
        throw Status.PERMISSION_DENIED.withDescription("join token " + t.getId() + " was revoked; create a new one"
            + " with `joinflow token create --node-id " + node + "`").asException();
      case TOKEN_CONSUMED:
        return t;
      case TOKEN_IN_FLIGHT:
        if (!t.getWorkflowId().equals(workflowId)) {
          throw usedBy(t, node);
        }
        return t;
      case TOKEN_ISSUED:
        if (t.getExpiresAtMillis() <= clock.millis()) {
          throw Status.PERMISSION_DENIED.withDescription("join token " + t.getId() + " expired at "
              + Instant.ofEpochMilli(t.getExpiresAtMillis()) + "; create a new one with `joinflow token create"
              + " --node-id " + node + "`").asException();
        }
        return t;
      default:
        throw Status.INTERNAL.withDescription("join token " + t.getId() + " is in no known state").asException();
    }
  }

  /** The refusal of a token that already admitted a join. */
  static StatusException usedBy(TokenRecord t, String node) {
    return Status.PERMISSION_DENIED.withDescription("join token " + t.getId() + " was already used"
        + (t.getWorkflowId().isEmpty() ? "" : " by " + t.getWorkflowId()) + "; a token admits one join: create a new"
        + " one with `joinflow token create --node-id " + node + "`").asException();
  }

  /**
   * Claims a checked token for {@code workflowId}: ISSUED → IN_FLIGHT by compare-and-set. A token
   * this workflow already holds is kept; one that changed meanwhile is checked again (two Joins
   * with one token both end up holding it for the same workflow, which USE_EXISTING makes one run).
   */
  void claim(String text, TokenRecord checked, long nodeId, String workflowId) throws StatusException {
    TokenRecord t = checked;
    for (int attempt = 1; ; attempt++) {
      if (t.getState() == TokenState.TOKEN_IN_FLIGHT) {
        return;
      }
      if (t.getState() == TokenState.TOKEN_CONSUMED) {
        throw usedBy(t, Long.toUnsignedString(nodeId));
      }
      try {
        source.changeToken(ChangeTokenRequest.newBuilder().setSetState(SetTokenState.newBuilder().setId(t.getId())
            .setExpected(TokenState.TOKEN_ISSUED).setNext(TokenState.TOKEN_IN_FLIGHT).setWorkflowId(workflowId)
            .setNowMillis(clock.millis())).build());
        LOG.info("node {}: join token {} held by {}", Long.toUnsignedString(nodeId), t.getId(), workflowId);
        return;
      } catch (StatusException e) {
        if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION || attempt >= CLAIM_ATTEMPTS) {
          throw e;
        }
      }
      t = check(text, nodeId, workflowId, true);
    }
  }

  /**
   * After a join's answer: a token still IN_FLIGHT for {@code workflowId} is consumed when the
   * node joined (a join answered without a persist step, such as an already joined node) and
   * given back when it did not. Best effort: persist and evict do the same, and an IN_FLIGHT
   * token stays usable by the same node's next Join anyway.
   */
  void settle(long nodeId, String workflowId, boolean joined) {
    try {
      for (TokenRecord t : source.tokens()) {
        if (t.getState() == TokenState.TOKEN_IN_FLIGHT && t.getWorkflowId().equals(workflowId)) {
          source.changeToken(ChangeTokenRequest.newBuilder().setSetState(SetTokenState.newBuilder().setId(t.getId())
              .setExpected(TokenState.TOKEN_IN_FLIGHT).setExpectedWorkflowId(workflowId)
              .setNext(joined ? TokenState.TOKEN_CONSUMED : TokenState.TOKEN_ISSUED).setNowMillis(clock.millis()))
              .build());
          LOG.info("node {}: join token {} {}", Long.toUnsignedString(nodeId), t.getId(),
              joined ? "consumed" : "usable again");
        }
      }
    } catch (StatusException e) {
      LOG.warn("node {}: cannot settle the join token of {}: {}", Long.toUnsignedString(nodeId), workflowId,
          e.getStatus().getDescription());
    }
  }

  private TokenRecord find(String id) throws StatusException {
    List<TokenRecord> all = source.tokens();
    return all.stream().filter(t -> t.getId().equals(id)).findFirst().orElse(null);
  }

  static TokenInfo info(TokenRecord t, long now) {
    return TokenInfo.newBuilder().setId(t.getId()).setNodeId(t.getNodeId()).setState(t.getState())
        .setExpiresAtMillis(t.getExpiresAtMillis()).setWorkflowId(t.getWorkflowId())
        .setCreatedAtMillis(t.getCreatedAtMillis())
        .setExpired(t.getState() == TokenState.TOKEN_ISSUED && t.getExpiresAtMillis() <= now).build();
  }
}
