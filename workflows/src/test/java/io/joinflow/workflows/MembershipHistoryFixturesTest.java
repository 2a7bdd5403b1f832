package io.joinflow.workflows;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Writes the promotion and leave history fixtures that {@link MembershipReplayTest} replays,
 * behind the same explicit switch as the join's ({@link JoinHistoryFixturesTest}):
 *
 * <pre>mvn -pl workflows test -Dtest=MembershipHistoryFixturesTest -Djoinflow.histories.write=true</pre>
 */
class MembershipHistoryFixturesTest {
  // Written by the first version of the promotion's steps (and the leave's only one).
  static final String PROMOTE_SUCCESS = "promote-success-8-groups.json";
  static final String PROMOTE_NOT_CAUGHT_UP = "promote-learner-not-caught-up.json";
  static final String LEAVE_SUCCESS = "leave-success-8-groups.json";
  // Written by version 1 of the promotion's steps (catchUpAndPromote, settleMember).
  static final String V1_PROMOTE_SUCCESS = "promote-v1-success-8-groups.json";
  static final String V1_PROMOTE_NOT_CAUGHT_UP = "promote-v1-learner-not-caught-up.json";
  static final String V1_PROMOTE_NO_WINDOW = "promote-v1-no-window-8-groups.json";
  // Written by the current version of the promotion's steps; a new version adds its own files.
  // Since version 2 they are handed the membership of the join before them, as the gateway
  // starts them, but for "described", which reads it like a promotion started another way.
  static final String PROMOTE_CURRENT = "promote-v" + PromoteWorkflowImpl.STEPS_VERSION + "-";
  static final String CURRENT_PROMOTE_SUCCESS = PROMOTE_CURRENT + "success-8-groups.json";
  static final String CURRENT_PROMOTE_NOT_CAUGHT_UP = PROMOTE_CURRENT + "learner-not-caught-up.json";
  static final String CURRENT_PROMOTE_NO_WINDOW = PROMOTE_CURRENT + "no-window-8-groups.json";
  static final String CURRENT_PROMOTE_DESCRIBED = PROMOTE_CURRENT + "described-no-window-8-groups.json";

  @BeforeEach
  void onlyWhenAsked() {
    assumeTrue(Boolean.getBoolean(JoinHistoryFixturesTest.WRITE_PROPERTY),
        "history fixtures are kept as committed; set -D" + JoinHistoryFixturesTest.WRITE_PROPERTY + "=true to rewrite them");
  }

  @Test
  void writePromoteSuccess() throws IOException {
    ScriptedJoinActivities join = new ScriptedJoinActivities(8);
    try (MembershipTestServer server = new MembershipTestServer(join,
        ScriptedMembershipActivities.joined(8).joinActivities(join))) {
      PromoteResult result = server.newPromote().promote(MembershipTestServer.promoteInputAfterJoin(
          PromoteOptions.defaults(), 8));
      assertThat(result.success()).isTrue();
      write(CURRENT_PROMOTE_SUCCESS, server, MembershipTestServer.promoteId());
    }
  }

  @Test
  void writePromoteWithoutAWindow() throws IOException {
    ScriptedJoinActivities join = new ScriptedJoinActivities(8);
    try (MembershipTestServer server = new MembershipTestServer(join,
        ScriptedMembershipActivities.joined(8).joinActivities(join))) {
      PromoteResult result = server.newPromote().promote(MembershipTestServer.promoteInputAfterJoin(
          new PromoteOptions(0, 30_000, 0, 16), 8));
      assertThat(result.success()).isTrue();
      write(CURRENT_PROMOTE_NO_WINDOW, server, MembershipTestServer.promoteId());
    }
  }

  @Test
  void writePromoteThatDescribesTheNode() throws IOException {
    ScriptedJoinActivities join = new ScriptedJoinActivities(8);
    try (MembershipTestServer server = new MembershipTestServer(join,
        ScriptedMembershipActivities.joined(8).joinActivities(join))) {
      PromoteResult result = server.newPromote().promote(MembershipTestServer.promoteInput(
          new PromoteOptions(0, 30_000, 0, 16)));
      assertThat(result.success()).isTrue();
      write(CURRENT_PROMOTE_DESCRIBED, server, MembershipTestServer.promoteId());
    }
  }

  @Test
  void writePromoteNotCaughtUp() throws IOException {
    ScriptedJoinActivities join = new ScriptedJoinActivities(8)
        .fail("awaitLearner", 3, Integer.MAX_VALUE, JoinFailures.UNAVAILABLE, false, "applied 7 of 4200");
    try (MembershipTestServer server = new MembershipTestServer(join,
        ScriptedMembershipActivities.joined(8).joinActivities(join))) {
      PromoteResult result = server.newPromote().promote(MembershipTestServer.promoteInputAfterJoin(
          new PromoteOptions(2_000, 30_000, 0, 16), 8));
      assertThat(result.success()).isFalse();
      write(CURRENT_PROMOTE_NOT_CAUGHT_UP, server, MembershipTestServer.promoteId());
    }
  }

  @Test
  void writeLeaveSuccess() throws IOException {
    // The leave's steps have one version; its fixture is written once.
    assumeTrue(!Files.exists(dir().resolve(LEAVE_SUCCESS)), LEAVE_SUCCESS + " is kept as committed");
    try (MembershipTestServer server = new MembershipTestServer(new ScriptedJoinActivities(8),
        ScriptedMembershipActivities.promoted(8))) {
      LeaveResult result = server.newLeave().leave(MembershipTestServer.leaveInput());
      assertThat(result.success()).isTrue();
      write(LEAVE_SUCCESS, server, MembershipTestServer.leaveId());
    }
  }

  private static void write(String name, MembershipTestServer server, String workflowId) throws IOException {
    Path dir = dir();
    Files.createDirectories(dir);
    Path file = dir.resolve(name);
    // A fixture records what published code did; it is never rewritten.
    assertThat(file).as("committed fixture " + name + " is kept as it is").doesNotExist();
    Files.writeString(file, server.history(workflowId).toJson(true) + "\n", StandardCharsets.UTF_8);
  }

  private static Path dir() {
    return Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "histories");
  }
}
