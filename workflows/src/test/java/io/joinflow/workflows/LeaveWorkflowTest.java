package io.joinflow.workflows;

import static io.joinflow.workflows.ScriptedJoinActivities.NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.AdditionalAnswers.delegatesTo;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.withSettings;

import io.joinflow.workflows.MembershipActivities.MemberStateInput;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

/** The leave workflow's logic against recording mocks of a cluster where node 4 votes and leads everywhere. */
class LeaveWorkflowTest {
  private static final int GROUPS = 8;
  private MembershipTestServer server;
  private JoinActivities join;
  private MembershipActivities membership;

  @AfterEach
  void closeServer() {
    if (server != null) {
      server.close();
    }
  }

  private LeaveWorkflow start(ScriptedMembershipActivities cluster) {
    join = mock(JoinActivities.class, withSettings().withoutAnnotations()
        .defaultAnswer(delegatesTo(new ScriptedJoinActivities(GROUPS))));
    membership = mock(MembershipActivities.class, withSettings().withoutAnnotations().defaultAnswer(delegatesTo(cluster)));
    server = new MembershipTestServer(join, membership);
    return server.newLeave();
  }

  @Test
  void shouldDrainMoveLeadershipRemoveEverywhereThenDecommission() {
    ScriptedMembershipActivities cluster = ScriptedMembershipActivities.promoted(GROUPS);
    LeaveWorkflow leave = start(cluster);

    LeaveResult result = leave.leave(MembershipTestServer.leaveInput());

    assertThat(result.success()).as(result.error()).isTrue();
    assertThat(result.removedFrom()).containsExactlyElementsOf(IntStream.rangeClosed(0, GROUPS).boxed().toList());
    assertThat(result.leadershipMoved()).containsExactlyElementsOf(IntStream.rangeClosed(0, GROUPS).boxed().toList());
    assertThat(cluster.nodeState()).isEqualTo("DECOMMISSIONED");
    for (int g = 0; g <= GROUPS; g++) {
      assertThat(cluster.voters(g)).containsExactly(1L, 2L);
      InOrder group = inOrder(membership);
      group.verify(membership).moveLeadership(ScriptedMembershipActivities.group(g));
      group.verify(membership).removeMember(ScriptedMembershipActivities.group(g));
    }
    InOrder steps = inOrder(membership, join);
    steps.verify(membership).planLeave(any());
    steps.verify(membership).setMemberState(new MemberStateInput(NODE, "DRAINING",
        List.of("LEARNER", "ACTIVE", "DRAINING")));
    steps.verify(membership).removeMember(ScriptedMembershipActivities.group(0));
    steps.verify(membership).setMemberState(new MemberStateInput(NODE, "DECOMMISSIONED",
        List.of("DRAINING", "DECOMMISSIONED")));
    steps.verify(join).broadcast(any());
    for (int g = 1; g <= GROUPS; g++) {
      // Group 0 last: the node hears topology until every data group is done.
      InOrder lastIsMetadata = inOrder(membership);
      lastIsMetadata.verify(membership).removeMember(ScriptedMembershipActivities.group(g));
      lastIsMetadata.verify(membership).removeMember(ScriptedMembershipActivities.group(0));
    }
    assertThat(leave.progress().phase()).isEqualTo(PromotePhase.DONE);

    // A second leave finds nothing to do.
    LeaveResult again = server.newLeave().leave(MembershipTestServer.leaveInput());
    assertThat(again.success()).isTrue();
    assertThat(again.alreadyLeft()).isTrue();
  }

  @Test
  void shouldRefuseWithoutChangingAnythingWhenQuorumWouldBreak() {
    String why = "node 4 is the only voter of group 0; removing it would leave the group without voters";
    LeaveWorkflow leave = start(ScriptedMembershipActivities.promoted(GROUPS).refuseLeave(why));

    LeaveResult result = leave.leave(MembershipTestServer.leaveInput());

    assertThat(result.success()).isFalse();
    assertThat(result.errorCode()).isEqualTo(JoinFailures.FAILED_PRECONDITION);
    assertThat(result.error()).isEqualTo(why);
    verify(membership, never()).setMemberState(any());
    verify(membership, never()).moveLeadership(any());
    verify(membership, never()).removeMember(any());
    verify(join, never()).broadcast(any());
    assertThat(leave.progress().phase()).isEqualTo(PromotePhase.REFUSED);
  }
}
