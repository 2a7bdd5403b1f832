package io.joinflow.workflows;

import static io.joinflow.workflows.ScriptedJoinActivities.NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.AdditionalAnswers.delegatesTo;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doReturn;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.mockingDetails;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoMoreInteractions;
import static org.mockito.Mockito.withSettings;

import io.joinflow.workflows.JoinActivities.EvictInput;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.PrepareResult;
import io.joinflow.workflows.JoinProgress.GroupProgress;
import io.temporal.api.sdk.v1.WorkflowMetadata;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributes;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.InOrder;
import org.mockito.invocation.Invocation;

/**
 * The join workflow's logic against mocked activities on a time-skipping test server. The
 * mocks answer like a healthy cluster ({@link ScriptedJoinActivities}) unless a test scripts
 * otherwise, and record every call for verification.
 */
class JoinWorkflowTest {
  private JoinTestServer server;

  @AfterEach
  void closeServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldJoinEveryGroupThenPersistAndBroadcast() {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(8);
    JoinActivities activities = mockOf(cluster);
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(JoinOptions.defaults()));

    assertThat(result.success()).isTrue();
    assertThat(result.alreadyJoined()).isFalse();
    assertThat(result.error()).isEmpty();
    assertThat(result.cluster()).isEqualTo(cluster.after());
    for (int g = 0; g <= 8; g++) {
      InOrder group = inOrder(activities);
      group.verify(activities).addLearner(new GroupInput(NODE, g));
      group.verify(activities).awaitLearner(new GroupInput(NODE, g));
    }
    InOrder steps = inOrder(activities);
    steps.verify(activities).prepare(any());
    steps.verify(activities, times(9)).awaitLearner(any());
    steps.verify(activities).finish(any());
    verify(activities, times(9)).addLearner(any());
    // Since steps version 3, prepare and finish do the work of these.
    verify(activities, never()).validate(any());
    verify(activities, never()).registerPeer(any());
    verify(activities, never()).admit(any());
    verify(activities, never()).persist(any());
    verify(activities, never()).broadcast(any());
    verify(activities, never()).removeLearner(any());
    verify(activities, never()).evict(any());

    JoinProgress progress = join.progress();
    assertThat(progress.phase()).isEqualTo(JoinPhase.DONE);
    assertThat(progress.nodeId()).isEqualTo(NODE);
    assertThat(progress.groups()).extracting(GroupProgress::groupId).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8);
    assertThat(progress.groups()).extracting(GroupProgress::state).containsOnly(JoinPhase.GROUP_CAUGHT_UP);
    assertThat(progress.updatedAtMillis()).isGreaterThanOrEqualTo(progress.startedAtMillis());
    assertThat(progress.outcome()).contains("joined 9 groups");

    WorkflowStub stub = server.untyped(join);
    SearchAttributes attributes = stub.describe().getTypedSearchAttributes();
    assertThat(attributes.get(JoinSearchAttributes.PHASE)).isEqualTo(JoinPhase.DONE);
    assertThat(attributes.get(JoinSearchAttributes.NODE_ID)).isEqualTo(NODE);
    WorkflowMetadata metadata = stub.query("__temporal_workflow_metadata", WorkflowMetadata.class);
    assertThat(metadata.getCurrentDetails()).isEqualTo("done: 9/9 caught up");

    JoinHistory history = new JoinHistory(server.history());
    assertThat(history.scheduled("addLearner")).extracting(JoinHistory.Activity::summary)
        .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(0, 8)
            .mapToObj(g -> "add learner node 4 to group " + g).toList());
    assertThat(history.scheduled()).extracting(JoinHistory.Activity::summary).doesNotContain("");
  }

  @Test
  void shouldRejectCollisionWithoutChangingAnything() {
    JoinActivities activities = mockOf(new ScriptedJoinActivities(8));
    String message = "node_id 4 already registered with different address a (request: b)";
    doThrow(ApplicationFailure.newNonRetryableFailure(message, JoinFailures.ALREADY_EXISTS))
        .when(activities).prepare(any());
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(JoinOptions.defaults()));

    assertThat(result.success()).isFalse();
    assertThat(result.errorCode()).isEqualTo(JoinFailures.ALREADY_EXISTS);
    assertThat(result.error()).isEqualTo(message);
    // Nothing to undo: prepare rejects before it changes anything.
    verify(activities).prepare(any());
    verifyNoMoreInteractions(activities);
    JoinProgress progress = join.progress();
    assertThat(progress.phase()).isEqualTo(JoinPhase.REJECTED);
    assertThat(progress.outcome()).contains(message);
  }

  @Test
  void shouldEvictWhenPrepareFailsForGood() {
    // prepare may have admitted the node before it kept failing: the join undoes the admission.
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(2)
        .fail("prepare", ScriptedJoinActivities.ANY_GROUP, Integer.MAX_VALUE, JoinFailures.UNAVAILABLE, false,
            "group 0 has no leader");
    JoinActivities activities = mockOf(cluster);
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(new JoinOptions(30_000, 16)));

    assertThat(result.success()).isFalse();
    assertThat(result.error()).isEqualTo("deadline of 30000 ms passed during validate");
    InOrder compensation = inOrder(activities);
    compensation.verify(activities, atLeastOnce()).prepare(any());
    compensation.verify(activities).evict(any());
    compensation.verify(activities).broadcast(any());
    compensation.verifyNoMoreInteractions();
    verify(activities, never()).addLearner(any());
    verify(activities, never()).removeLearner(any());
    assertThat(join.progress().phase()).isEqualTo(JoinPhase.COMPENSATED);
  }

  @Test
  void shouldReturnCurrentStateWhenAlreadyJoined() {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(8);
    JoinActivities activities = mockOf(cluster);
    doReturn(new PrepareResult(ScriptedJoinActivities.CLUSTER_ID, 8, true, cluster.after(), null))
        .when(activities).prepare(any());
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(JoinOptions.defaults()));

    assertThat(result.success()).isTrue();
    assertThat(result.alreadyJoined()).isTrue();
    assertThat(result.cluster()).isEqualTo(cluster.after());
    verify(activities).prepare(any());
    verifyNoMoreInteractions(activities);
    assertThat(join.progress().phase()).isEqualTo(JoinPhase.DONE);
  }

  @Test
  void shouldCompensateAtTheDeadlineEvenWhenAClusterChangeRetriesForever() {
    // addLearner of group 3 keeps failing retryably (its node is gone). Cluster changes are
    // never cancelled, so only their deadline-bound retries let compensation start at all.
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(4)
        .fail("addLearner", 3, Integer.MAX_VALUE, JoinFailures.UNAVAILABLE, false, "node 4 unreachable");
    JoinActivities activities = mockOf(cluster);
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(new JoinOptions(30_000, 16)));

    assertThat(result.success()).isFalse();
    assertThat(result.error()).isEqualTo("deadline of 30000 ms passed during learners");
    assertThat(groupsOf("removeLearner", activities)).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
    verify(activities).evict(any());
  }

  @Test
  void shouldCompensateInReverseOrderWhenDeadlinePasses() {
    // Group 2's learner never catches up: the deadline passes while it is retried.
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(4)
        .fail("awaitLearner", 2, Integer.MAX_VALUE, JoinFailures.UNAVAILABLE, false, "group 2: learner lags");
    JoinActivities activities = mockOf(cluster);
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(new JoinOptions(30_000, 16)));

    assertThat(result.success()).isFalse();
    assertThat(result.errorCode()).isEmpty();
    assertThat(result.error()).isEqualTo("deadline of 30000 ms passed during learners");
    List<Integer> added = groupsOf("addLearner", activities);
    assertThat(added).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
    // Compensations registered in group order (0..4) run in reverse.
    assertThat(groupsOf("removeLearner", activities)).containsExactly(4, 3, 2, 1, 0);
    assertThat(mockingDetails(activities).getInvocations().stream()
        .filter(i -> i.getMethod().getName().equals("awaitLearner"))
        .filter(i -> ((GroupInput) i.getArgument(0)).groupId() == 2)
        .count()).as("awaitLearner of group 2 retried until the deadline").isGreaterThan(3);

    InOrder compensation = inOrder(activities);
    for (int g = 0; g <= 4; g++) {
      int group = g;
      InOrder perGroup = inOrder(activities);
      perGroup.verify(activities).addLearner(argThat(in -> in.groupId() == group));
      perGroup.verify(activities).removeLearner(argThat(in -> in.groupId() == group));
    }
    compensation.verify(activities).prepare(any());
    compensation.verify(activities, times(5)).removeLearner(any());
    compensation.verify(activities).evict(any());
    compensation.verify(activities).broadcast(any());
    compensation.verifyNoMoreInteractions();
    verify(activities, never()).finish(any());
    verify(activities, times(1)).broadcast(any());

    ArgumentCaptor<EvictInput> evicted = ArgumentCaptor.forClass(EvictInput.class);
    verify(activities).evict(evicted.capture());
    assertThat(evicted.getValue().reason()).isEqualTo(result.error());
    assertThat(evicted.getValue().workflowId()).isEqualTo(JoinTestServer.workflowId());

    JoinProgress progress = join.progress();
    assertThat(progress.phase()).isEqualTo(JoinPhase.COMPENSATED);
    assertThat(progress.groups()).extracting(GroupProgress::state).containsOnly(JoinPhase.GROUP_REMOVED);
    assertThat(progress.outcome()).contains(result.error());
    assertThat(result.cluster().groups()).allSatisfy(g -> assertThat(g.learners()).isEmpty());
  }

  @Test
  void shouldCompensateEveryGroupWhenAddLearnerIsRejected() {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(6)
        .fail("addLearner", 3, 1, JoinFailures.FAILED_PRECONDITION, true, "group 3 has a pending conf change");
    JoinActivities activities = mockOf(cluster);
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(new JoinOptions(120_000, 2)));

    assertThat(result.success()).isFalse();
    assertThat(result.error())
        .isEqualTo("addLearner of group 3 failed: group 3 has a pending conf change (FailedPrecondition)");
    // Never retried: the type is non-retryable.
    verify(activities, times(1)).addLearner(new GroupInput(NODE, 3));
    // With two slots, groups 4..6 may never have been reached; they are undone all the same,
    // as an earlier run of the same join may have added a learner there.
    assertThat(new TreeSet<>(groupsOf("addLearner", activities))).contains(3);
    assertThat(groupsOf("removeLearner", activities)).containsExactly(6, 5, 4, 3, 2, 1, 0);
    InOrder compensation = inOrder(activities);
    compensation.verify(activities, atLeastOnce()).removeLearner(any());
    compensation.verify(activities).evict(any());
    compensation.verify(activities).broadcast(any());
    compensation.verifyNoMoreInteractions();
    verify(activities, never()).finish(any());
    assertThat(join.progress().phase()).isEqualTo(JoinPhase.COMPENSATED);
  }

  @Test
  void shouldBoundParallelConfigurationChangesByFanOut() {
    JoinActivities activities = mockOf(new ScriptedJoinActivities(9));
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(new JoinOptions(120_000, 3)));

    assertThat(result.success()).isTrue();
    verify(activities, times(10)).addLearner(any());
    verify(activities, times(10)).awaitLearner(any());
    int maxInFlight = new JoinHistory(server.history()).maxInFlight("addLearner");
    assertThat(maxInFlight).as("addLearner outstanding at once").isBetween(2, 3);
  }

  @Test
  void shouldNotHoldAFanOutSlotWhileWaitingForALearner() {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(9);
    JoinActivities activities = mockOf(cluster);
    // No learner catches up before every group has its learner: with a slot held through the
    // wait, three waiting groups would keep the other seven from ever being added.
    CountDownLatch allAdded = new CountDownLatch(10);
    doAnswer(call -> {
      allAdded.countDown();
      return cluster.addLearner(call.getArgument(0));
    }).when(activities).addLearner(any());
    doAnswer(call -> {
      if (!allAdded.await(5, TimeUnit.SECONDS)) {
        throw ApplicationFailure.newNonRetryableFailure("waited for a learner before every group had one",
            JoinFailures.FAILED_PRECONDITION);
      }
      return cluster.awaitLearner(call.getArgument(0));
    }).when(activities).awaitLearner(any());
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(new JoinOptions(120_000, 3)));

    assertThat(result.success()).as("join result %s", result.error()).isTrue();
    JoinHistory history = new JoinHistory(server.history());
    assertThat(history.maxInFlight("addLearner")).as("addLearner outstanding at once").isBetween(2, 3);
    assertThat(history.maxGroupChainsInFlight()).as("group chains outstanding at once").isGreaterThan(3);
  }

  @Test
  void shouldRetryAddLearnerAfterLeaderChange() {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(8)
        .fail("addLearner", 5, 1, JoinFailures.UNAVAILABLE, false, "group 5: leader changed, retry on the new leader");
    JoinActivities activities = mockOf(cluster);
    JoinWorkflow join = start(activities);

    JoinResult result = join.join(ScriptedJoinActivities.input(JoinOptions.defaults()));

    assertThat(result.success()).isTrue();
    verify(activities, times(2)).addLearner(new GroupInput(NODE, 5));
    verify(activities, times(10)).addLearner(any());
    verify(activities, never()).removeLearner(any());
    verify(activities).finish(any());
  }

  @Test
  void shouldCompensateWhenTheJoinIsCancelled() {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(2)
        .fail("awaitLearner", 1, Integer.MAX_VALUE, JoinFailures.UNAVAILABLE, false, "group 1: learner lags");
    JoinActivities activities = mockOf(cluster);
    JoinWorkflow join = start(activities);
    WorkflowClient.start(join::join, ScriptedJoinActivities.input(JoinOptions.defaults()));
    await().atMost(Duration.ofSeconds(20))
        .until(() -> groupsOf("awaitLearner", activities).stream().filter(g -> g == 1).count() >= 2);

    WorkflowStub stub = server.untyped(join);
    // While group 1 lags, the query and the UI's current details show where the join stands.
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(stub.query("__temporal_workflow_metadata", WorkflowMetadata.class).getCurrentDetails())
          .isEqualTo("learners: 2/3 caught up; catching up: 1");
      assertThat(join.progress().groups()).extracting(GroupProgress::state)
          .containsExactly(JoinPhase.GROUP_CAUGHT_UP, JoinPhase.GROUP_LEARNER, JoinPhase.GROUP_CAUGHT_UP);
    });
    assertThat(join.progress().phase()).isEqualTo(JoinPhase.LEARNERS);
    stub.cancel();

    // A cancelled workflow closes as cancelled whatever it returns, so the outcome is read
    // from the progress query and the calls it made.
    assertThatThrownBy(() -> stub.getResult(JoinResult.class))
        .isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(CanceledFailure.class);
    JoinProgress progress = join.progress();
    assertThat(progress.phase()).isEqualTo(JoinPhase.COMPENSATED);
    assertThat(progress.outcome()).isEqualTo("compensated: join cancelled during learners");
    assertThat(groupsOf("removeLearner", activities)).containsExactly(2, 1, 0);
    InOrder compensation = inOrder(activities);
    compensation.verify(activities, times(3)).removeLearner(any());
    compensation.verify(activities).evict(any());
    compensation.verify(activities).broadcast(any());
    // The lagging wait is abandoned, not cancelled: the server may start one more attempt of
    // it until the workflow closes. Nothing else comes after the compensation.
    assertThat(callsAfterLast("broadcast", activities)).allSatisfy(call -> assertThat(call).isEqualTo("awaitLearner"));
    verify(activities, never()).finish(any());
  }

  /** The methods called after the last call of {@code method}, in call order. */
  private static List<String> callsAfterLast(String method, JoinActivities activities) {
    List<String> calls = new ArrayList<>();
    for (Invocation i : mockingDetails(activities).getInvocations()) {
      calls.add(i.getMethod().getName());
    }
    return calls.subList(calls.lastIndexOf(method) + 1, calls.size());
  }

  private JoinWorkflow start(JoinActivities activities) {
    server = new JoinTestServer(activities);
    return server.newJoin();
  }

  /** A recording mock that answers like {@code cluster}; tests override single answers. */
  private static JoinActivities mockOf(ScriptedJoinActivities cluster) {
    return mock(JoinActivities.class, withSettings().withoutAnnotations().defaultAnswer(delegatesTo(cluster)));
  }

  /** The groups {@code method} was called with, in call order. */
  private static List<Integer> groupsOf(String method, JoinActivities activities) {
    List<Integer> groups = new ArrayList<>();
    for (Invocation i : mockingDetails(activities).getInvocations()) {
      if (i.getMethod().getName().equals(method)) {
        groups.add(((GroupInput) i.getArgument(0)).groupId());
      }
    }
    return groups;
  }
}
