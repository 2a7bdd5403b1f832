package io.joinflow.node.raft;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.joinflow.proto.v1.Bootstrap;
import io.joinflow.proto.v1.Batch;
import io.joinflow.proto.v1.IssueToken;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataState;
import io.joinflow.proto.v1.NodeRecord;
import io.joinflow.proto.v1.RemoveNode;
import io.joinflow.proto.v1.SetTokenState;
import io.joinflow.proto.v1.TokenRecord;
import io.joinflow.proto.v1.TokenState;
import org.junit.jupiter.api.Test;

class TokenApplierTest {
  private static final long NOW = 1_000_000;
  private static final String WF = "join/42/7";

  private static MetadataState bootstrapped() {
    return MetadataApplier.apply(MetadataState.getDefaultInstance(), MetadataCommand.newBuilder().setBootstrap(
        Bootstrap.newBuilder().setClusterId(42).setDataGroups(1).setSeed(NodeRecord.newBuilder().setNodeId(1)
            .setAddr("a:1").setRaftAddr("a:2"))).build()).state();
  }

  private static TokenRecord token(String id, long expires) {
    return TokenRecord.newBuilder().setId(id).setSecretSha256(ByteString.copyFrom(new byte[32])).setNodeId(7)
        .setExpiresAtMillis(expires).setState(TokenState.TOKEN_ISSUED).build();
  }

  private static MetadataApplier.Outcome issue(MetadataState s, TokenRecord t, long now) {
    return MetadataApplier.apply(s, MetadataCommand.newBuilder().setIssueToken(IssueToken.newBuilder().setToken(t)
        .setNowMillis(now)).build());
  }

  private static MetadataApplier.Outcome cas(MetadataState s, String id, TokenState expected, String expectedWf,
                                             TokenState next, String wf, long now) {
    return MetadataApplier.apply(s, MetadataCommand.newBuilder().setSetTokenState(SetTokenState.newBuilder().setId(id)
        .setExpected(expected).setExpectedWorkflowId(expectedWf).setNext(next).setWorkflowId(wf).setNowMillis(now))
        .build());
  }

  private static TokenRecord stored(MetadataState s, String id) {
    return s.getTokensList().stream().filter(t -> t.getId().equals(id)).findFirst().orElseThrow();
  }

  private static MetadataState issued() {
    MetadataApplier.Outcome o = issue(bootstrapped(), token("abc123", NOW + 60_000), NOW);
    assertThat(o.ok()).isTrue();
    return o.state();
  }

  @Test
  void shouldIssueATokenWithItsHashAndWithoutChangingTheTopologyVersion() {
    MetadataState before = bootstrapped();
    MetadataState after = issue(before, token("abc123", NOW + 1), NOW).state();
    TokenRecord t = stored(after, "abc123");
    assertThat(t.getState()).isEqualTo(TokenState.TOKEN_ISSUED);
    assertThat(t.getCreatedAtMillis()).isEqualTo(NOW);
    assertThat(after.getTopologyVersion()).isEqualTo(before.getTopologyVersion());
  }

  @Test
  void shouldRefuseMalformedTokensAndChangeNothing() {
    MetadataState s = bootstrapped();
    for (TokenRecord bad : new TokenRecord[] {token("ABC123", NOW + 1), token("abc12", NOW + 1),
        token("abc123", NOW + 1).toBuilder().setSecretSha256(ByteString.copyFromUtf8("secret")).build(),
        token("abc123", NOW + 1).toBuilder().setNodeId(0).build(), token("abc123", NOW),
        token("abc123", NOW + 1).toBuilder().setState(TokenState.TOKEN_IN_FLIGHT).setWorkflowId(WF).build()}) {
      MetadataApplier.Outcome o = issue(s, bad, NOW);
      assertThat(o.result().getCode()).as(bad.toString()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
      assertThat(o.state()).isSameAs(s);
    }
  }

  @Test
  void shouldTreatTheSameIssueAgainAsDoneAndAnotherTokenWithTheIdAsTaken() {
    MetadataState s = issued();
    MetadataApplier.Outcome again = issue(s, token("abc123", NOW + 60_000), NOW);
    assertThat(again.ok()).isTrue();
    assertThat(again.result().getApplied()).isFalse();
    MetadataApplier.Outcome other = issue(s, token("abc123", NOW + 99_000), NOW);
    assertThat(other.result().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS.value());
  }

  @Test
  void shouldLetExactlyOneJoinTakeAnIssuedToken() {
    MetadataState s = issued();
    MetadataState held = cas(s, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT, WF, NOW).state();
    assertThat(stored(held, "abc123").getState()).isEqualTo(TokenState.TOKEN_IN_FLIGHT);
    assertThat(stored(held, "abc123").getWorkflowId()).isEqualTo(WF);
    // The same join asking again changes nothing; another workflow is refused.
    MetadataApplier.Outcome same = cas(held, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT, WF, NOW);
    assertThat(same.ok()).isTrue();
    assertThat(same.result().getApplied()).isFalse();
    MetadataApplier.Outcome other = cas(held, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT,
        "join/42/8", NOW);
    assertThat(other.result().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
    assertThat(other.result().getMessage()).isEqualTo("join token abc123 is IN_FLIGHT (join/42/7), not ISSUED");
    assertThat(other.state()).isSameAs(held);
  }

  @Test
  void shouldJudgeExpiryByTheNowTheCommandCarries() {
    MetadataState s = issued();
    MetadataApplier.Outcome late = cas(s, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT, WF,
        NOW + 60_000);
    assertThat(late.result().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
    assertThat(late.result().getMessage()).contains("expired");
    assertThat(cas(s, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT, WF, NOW + 59_999).ok())
        .isTrue();
  }

  @Test
  void shouldConsumeOnlyTheTokenItsWorkflowHoldsAndGiveItBackOnCompensation() {
    MetadataState held = cas(issued(), "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT, WF, NOW)
        .state();
    assertThat(cas(held, "abc123", TokenState.TOKEN_IN_FLIGHT, "join/42/8", TokenState.TOKEN_CONSUMED, "", NOW)
        .result().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
    MetadataState back = cas(held, "abc123", TokenState.TOKEN_IN_FLIGHT, WF, TokenState.TOKEN_ISSUED, "", NOW).state();
    assertThat(stored(back, "abc123").getState()).isEqualTo(TokenState.TOKEN_ISSUED);
    assertThat(stored(back, "abc123").getWorkflowId()).isEmpty();
    MetadataState used = cas(held, "abc123", TokenState.TOKEN_IN_FLIGHT, WF, TokenState.TOKEN_CONSUMED, "", NOW)
        .state();
    assertThat(stored(used, "abc123").getState()).isEqualTo(TokenState.TOKEN_CONSUMED);
    assertThat(stored(used, "abc123").getWorkflowId()).isEqualTo(WF);
    // A used token can neither be taken again nor revoked.
    assertThat(cas(used, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT, WF, NOW).result()
        .getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
    assertThat(cas(used, "abc123", TokenState.TOKEN_IN_FLIGHT, WF, TokenState.TOKEN_REVOKED, "", NOW).result()
        .getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
    // Consuming again (a retried persist) is done already.
    MetadataApplier.Outcome again = cas(used, "abc123", TokenState.TOKEN_IN_FLIGHT, WF, TokenState.TOKEN_CONSUMED, "",
        NOW);
    assertThat(again.ok()).isTrue();
    assertThat(again.result().getApplied()).isFalse();
  }

  @Test
  void shouldRefuseTransitionsOutsideTheLifecycle() {
    MetadataState s = issued();
    assertThat(cas(s, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_CONSUMED, "", NOW).result().getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(cas(s, "abc123", TokenState.TOKEN_REVOKED, "", TokenState.TOKEN_ISSUED, "", NOW).result().getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(cas(s, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT, "", NOW).result().getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(cas(s, "zzz999", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_REVOKED, "", NOW).result().getCode())
        .isEqualTo(Status.Code.NOT_FOUND.value());
    MetadataState revoked = cas(s, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_REVOKED, "", NOW).state();
    assertThat(stored(revoked, "abc123").getState()).isEqualTo(TokenState.TOKEN_REVOKED);
    assertThat(cas(revoked, "abc123", TokenState.TOKEN_ISSUED, "", TokenState.TOKEN_IN_FLIGHT, WF, NOW).result()
        .getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
  }

  @Test
  void shouldRefuseAllOfABatchWhoseTokenChangeNoLongerFits() {
    MetadataState s = issued();
    MetadataApplier.Outcome o = MetadataApplier.apply(s, MetadataCommand.newBuilder().setBatch(Batch.newBuilder()
        .addCommands(MetadataCommand.newBuilder().setRemoveNode(RemoveNode.newBuilder().setNodeId(1)))
        .addCommands(MetadataCommand.newBuilder().setSetTokenState(SetTokenState.newBuilder().setId("abc123")
            .setExpected(TokenState.TOKEN_IN_FLIGHT).setNext(TokenState.TOKEN_CONSUMED)))).build());
    assertThat(o.ok()).isFalse();
    assertThat(o.state()).isSameAs(s);
  }

  @Test
  void shouldCapLiveTokensAndPruneTheOldestDeadOnes() {
    MetadataState s = bootstrapped();
    // Dead ones: expired by the time the later tokens are issued.
    for (int i = 0; i < TokenApplier.MAX_DEAD_TOKENS + 10; i++) {
      s = issue(s, token(String.format("d%05d", i), NOW + 10), NOW - 1000 + i).state();
    }
    long later = NOW + 100;
    for (int i = 0; i < TokenApplier.MAX_LIVE_TOKENS; i++) {
      MetadataApplier.Outcome o = issue(s, token(String.format("l%05d", i), later + 60_000), later);
      assertThat(o.ok()).as(o.result().getMessage()).isTrue();
      s = o.state();
    }
    assertThat(s.getTokensCount()).isEqualTo(TokenApplier.MAX_LIVE_TOKENS + TokenApplier.MAX_DEAD_TOKENS);
    // The oldest dead tokens went first.
    assertThat(s.getTokensList()).noneMatch(t -> t.getId().equals("d00000"));
    assertThat(s.getTokensList()).anyMatch(t -> t.getId().equals(String.format("d%05d", TokenApplier.MAX_DEAD_TOKENS + 9)));
    MetadataApplier.Outcome full = issue(s, token("over00", later + 60_000), later);
    assertThat(full.result().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
    assertThat(full.result().getMessage()).contains("revoke unused ones");
    assertThat(full.state()).isSameAs(s);
  }
}
