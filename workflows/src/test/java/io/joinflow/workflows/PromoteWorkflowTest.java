package io.joinflow.workflows;

import static io.joinflow.workflows.ScriptedJoinActivities.NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.AdditionalAnswers.delegatesTo;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.atLeast;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.withSettings;

import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.MembershipActivities.PromoteVoterInput;
import io.joinflow.workflows.PromoteProgress.GroupPromotion;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

/**
 * The promotion workflow's logic against recording mocks that answer like a cluster where node
 * 4 just joined as learner of every group, on a time-skipping test server.
 */
class PromoteWorkflowTest {
  private static final int GROUPS = 8;
  private MembershipTestServer server;
  private ScriptedMembershipActivities cluster;
  private JoinActivities join;
  private MembershipActivities membership;

  @AfterEach
  void closeServer() {
    if (server != null) {
      server.close();
    }
  }

  private PromoteWorkflow start(ScriptedJoinActivities joinScript, ScriptedMembershipActivities membershipScript) {
    cluster = membershipScript;
    join = mock(JoinActivities.class, withSettings().withoutAnnotations().defaultAnswer(delegatesTo(joinScript)));
    membershipScript.joinActivities(join);
    membership = mock(MembershipActivities.class,
        withSettings().withoutAnnotations().defaultAnswer(delegatesTo(membershipScript)));
    server = new MembershipTestServer(join, membership);
    return server.newPromote();
  }

  @Test
  void shouldPromoteEveryGroupAfterCatchUpAndWindowThenMarkActive() {
    PromoteWorkflow promote = start(new ScriptedJoinActivities(GROUPS), ScriptedMembershipActivities.joined(GROUPS));

    PromoteResult result = promote.promote(MembershipTestServer.promoteInput(PromoteOptions.defaults()));

    assertThat(result.success()).as(result.error()).isTrue();
    assertThat(result.nodeState()).isEqualTo("ACTIVE");
    assertThat(result.groups()).hasSize(GROUPS + 1).extracting(GroupPromotion::state)
        .containsOnly(PromotePhase.GROUP_VOTER);
    for (int g = 0; g <= GROUPS; g++) {
      assertThat(cluster.voters(g)).containsExactly(1L, NODE);
      InOrder group = inOrder(join, membership);
      group.verify(join).awaitLearner(new GroupInput(NODE, g));
      group.verify(membership).promoteVoter(new PromoteVoterInput(NODE, g, 0));
    }
    InOrder steps = inOrder(join, membership);
    steps.verify(membership).describeMember(any());
    steps.verify(membership, times(GROUPS + 1)).promoteVoter(any());
    // Since promotion steps version 1: setMemberState and broadcast in one activity.
    steps.verify(membership).settleMember(any());
    steps.verify(join).broadcast(any());
    verify(membership, never()).catchUpAndPromote(any());
    assertThat(cluster.nodeState()).isEqualTo("ACTIVE");
    PromoteProgress progress = promote.progress();
    assertThat(progress.done()).isTrue();
    assertThat(progress.phase()).isEqualTo(PromotePhase.DONE);
    // Every group waited for its stabilization window (2 s by default) before the CAS.
    JoinHistory history = new JoinHistory(server.history(MembershipTestServer.promoteId()));
    assertThat(history.events().stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_FIRED))
        .hasSize(GROUPS + 1);
    assertThat(progress.updatedAtMillis() - progress.startedAtMillis()).isGreaterThanOrEqualTo(2_000);
  }

  @Test
  void shouldHoldPromotionsWhilePausedAndPromoteOnResume() {
    PromoteWorkflow promote = start(new ScriptedJoinActivities(GROUPS), ScriptedMembershipActivities.joined(GROUPS));
    WorkflowClient.start(promote::promote, MembershipTestServer.promoteInput(new PromoteOptions(5_000, 60_000, 0, 4)));
    promote.pause();

    server.env().sleep(Duration.ofSeconds(30));
    await().atMost(Duration.ofSeconds(20)).until(() -> promote.progress().groups().size() == GROUPS + 1
        && promote.progress().groups().stream().allMatch(g -> g.state().equals(PromotePhase.GROUP_STABILIZING)));
    PromoteProgress paused = promote.progress();
    assertThat(paused.paused()).isTrue();
    verify(membership, never()).promoteVoter(any());

    promote.resume();
    PromoteResult result = io.temporal.client.WorkflowStub.fromTyped(promote).getResult(PromoteResult.class);
    assertThat(result.success()).as(result.error()).isTrue();
    assertThat(result.groups()).extracting(GroupPromotion::state).containsOnly(PromotePhase.GROUP_VOTER);
    assertThat(promote.progress().paused()).isFalse();
  }

  @Test
  void shouldSkipStabilizationWindowsOnPromoteNow() {
    PromoteWorkflow promote = start(new ScriptedJoinActivities(GROUPS), ScriptedMembershipActivities.joined(GROUPS));
    long hour = Duration.ofHours(1).toMillis();
    WorkflowClient.start(promote::promote, MembershipTestServer.promoteInput(new PromoteOptions(hour, hour * 2, 0, 16)));
    promote.promoteNow();

    PromoteResult result = io.temporal.client.WorkflowStub.fromTyped(promote).getResult(PromoteResult.class);

    assertThat(result.success()).as(result.error()).isTrue();
    PromoteProgress progress = promote.progress();
    assertThat(progress.promoteNow()).isTrue();
    assertThat(progress.updatedAtMillis() - progress.startedAtMillis()).isLessThan(hour);
    JoinHistory history = new JoinHistory(server.history(MembershipTestServer.promoteId()));
    assertThat(history.events().stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_FIRED)).isEmpty();
  }

  @Test
  void shouldLeaveNodeLearnerWhereTheVoterLimitIsReached() {
    PromoteWorkflow promote = start(new ScriptedJoinActivities(GROUPS), ScriptedMembershipActivities.joined(GROUPS));

    PromoteResult result = promote.promote(MembershipTestServer.promoteInput(PromoteOptions.defaults().withMaxVoters(1)));

    assertThat(result.success()).as("the limit is intended, not a failure").isTrue();
    assertThat(result.nodeState()).isEqualTo("ACTIVE");
    assertThat(result.groups()).allSatisfy(g -> {
      assertThat(g.state()).isEqualTo(PromotePhase.GROUP_LEARNER);
      assertThat(g.detail()).startsWith("voter limit of 1 reached");
    });
    for (int g = 0; g <= GROUPS; g++) {
      assertThat(cluster.voters(g)).containsExactly(1L);
    }
  }

  @Test
  void shouldReportLearnersThatNeverCatchUpInsteadOfLooping() {
    ScriptedJoinActivities joinScript = new ScriptedJoinActivities(GROUPS)
        .fail("awaitLearner", 3, Integer.MAX_VALUE, JoinFailures.UNAVAILABLE, false, "applied 7 of 4200");
    PromoteWorkflow promote = start(joinScript, ScriptedMembershipActivities.joined(GROUPS));

    PromoteResult result = promote.promote(MembershipTestServer.promoteInput(new PromoteOptions(0, 30_000, 0, 16)));

    assertThat(result.success()).isFalse();
    assertThat(result.error()).contains("group 3").contains("not caught up");
    assertThat(result.nodeState()).as("not ACTIVE while a group is behind").isEqualTo("LEARNER");
    assertThat(result.groups()).filteredOn(g -> g.groupId() == 3).singleElement()
        .satisfies(g -> assertThat(g.state()).isEqualTo(PromotePhase.GROUP_LEARNER));
    assertThat(result.groups()).filteredOn(g -> g.groupId() != 3).extracting(GroupPromotion::state)
        .containsOnly(PromotePhase.GROUP_VOTER);
    // No window: each group waits and is promoted in one activity, the lagging one never promoted.
    verify(membership, atLeast(GROUPS + 1)).catchUpAndPromote(any());
    verify(membership, atLeast(2)).catchUpAndPromote(new PromoteVoterInput(NODE, 3, 0));
    verify(join, atLeast(2)).awaitLearner(new GroupInput(NODE, 3));
    assertThat(cluster.voters(3)).containsExactly(1L);
    assertThat(promote.progress().phase()).isEqualTo(PromotePhase.FAILED);
  }

  @Test
  void shouldWaitAndPromoteInOneActivityPerGroupWithoutAWindow() {
    PromoteWorkflow promote = start(new ScriptedJoinActivities(GROUPS), ScriptedMembershipActivities.joined(GROUPS));

    PromoteResult result = promote.promote(MembershipTestServer.promoteInput(new PromoteOptions(0, 30_000, 0, 16)));

    assertThat(result.success()).as(result.error()).isTrue();
    assertThat(result.groups()).extracting(GroupPromotion::state).containsOnly(PromotePhase.GROUP_VOTER);
    JoinHistory history = new JoinHistory(server.history(MembershipTestServer.promoteId()));
    assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
        .containsExactly("describeMember", "catchUpAndPromote", "settleMember");
    assertThat(history.scheduled("catchUpAndPromote")).hasSize(GROUPS + 1);
    for (int g = 0; g <= GROUPS; g++) {
      // The wait runs inside the activity.
      InOrder group = inOrder(membership, join);
      group.verify(membership).catchUpAndPromote(new PromoteVoterInput(NODE, g, 0));
      group.verify(join).awaitLearner(new GroupInput(NODE, g));
      assertThat(cluster.voters(g)).containsExactly(1L, NODE);
    }
    assertThat(cluster.nodeState()).isEqualTo("ACTIVE");
  }

  @Test
  void shouldStartOnTheGroupsWithTheMembershipItsJoinHandedOver() {
    PromoteWorkflow promote = start(new ScriptedJoinActivities(GROUPS), ScriptedMembershipActivities.joined(GROUPS));

    PromoteResult result = promote.promote(MembershipTestServer.promoteInputAfterJoin(
        new PromoteOptions(0, 30_000, 0, 16), GROUPS));

    assertThat(result.success()).as(result.error()).isTrue();
    assertThat(result.nodeState()).isEqualTo("ACTIVE");
    assertThat(result.groups()).hasSize(GROUPS + 1).extracting(GroupPromotion::state)
        .containsOnly(PromotePhase.GROUP_VOTER);
    verify(membership, never()).describeMember(any());
    JoinHistory history = new JoinHistory(server.history(MembershipTestServer.promoteId()));
    assertThat(history.scheduled().stream().map(JoinHistory.Activity::type).distinct())
        .containsExactly("catchUpAndPromote", "settleMember");
    for (int g = 0; g <= GROUPS; g++) {
      assertThat(cluster.voters(g)).containsExactly(1L, NODE);
    }
  }

  @Test
  void shouldStillRefuseANodeTheHandedMembershipShowsLeaving() {
    PromoteInput afterJoin = MembershipTestServer.promoteInputAfterJoin(PromoteOptions.defaults(), GROUPS);
    MembershipActivities.MemberState m = afterJoin.member();
    PromoteInput leaving = new PromoteInput(afterJoin.nodeId(), afterJoin.clusterId(), afterJoin.options(),
        new MembershipActivities.MemberState(m.clusterId(), m.dataGroups(), "DRAINING", m.listenAddr(), m.groups()));
    PromoteWorkflow promote = start(new ScriptedJoinActivities(GROUPS), ScriptedMembershipActivities.joined(GROUPS));

    PromoteResult result = promote.promote(leaving);

    assertThat(result.success()).isFalse();
    assertThat(result.error()).contains("DRAINING");
    verify(membership, never()).describeMember(any());
    verify(membership, never()).catchUpAndPromote(any());
    verify(membership, never()).settleMember(any());
  }

  @Test
  void shouldRefuseNodeThatIsLeaving() {
    ScriptedMembershipActivities leaving = ScriptedMembershipActivities.joined(GROUPS);
    leaving.setMemberState(new MembershipActivities.MemberStateInput(NODE, "DRAINING", java.util.List.of("LEARNER")));
    PromoteWorkflow promote = start(new ScriptedJoinActivities(GROUPS), leaving);

    PromoteResult result = promote.promote(MembershipTestServer.promoteInput(PromoteOptions.defaults()));

    assertThat(result.success()).isFalse();
    assertThat(result.error()).contains("DRAINING");
    verify(membership, never()).promoteVoter(any());
    verify(membership, never()).catchUpAndPromote(any());
    verify(membership, never()).setMemberState(any());
    verify(membership, never()).settleMember(any());
  }
}
