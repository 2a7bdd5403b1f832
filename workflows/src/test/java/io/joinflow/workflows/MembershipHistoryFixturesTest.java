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
  static final String PROMOTE_SUCCESS = "promote-success-8-groups.json";
  static final String PROMOTE_NOT_CAUGHT_UP = "promote-learner-not-caught-up.json";
  static final String LEAVE_SUCCESS = "leave-success-8-groups.json";

  @BeforeEach
  void onlyWhenAsked() {
    assumeTrue(Boolean.getBoolean(JoinHistoryFixturesTest.WRITE_PROPERTY),
        "history fixtures are kept as committed; set -D" + JoinHistoryFixturesTest.WRITE_PROPERTY + "=true to rewrite them");
  }

  @Test
  void writePromoteSuccess() throws IOException {
    try (MembershipTestServer server = new MembershipTestServer(new ScriptedJoinActivities(8),
        ScriptedMembershipActivities.joined(8))) {
      PromoteResult result = server.newPromote().promote(MembershipTestServer.promoteInput(PromoteOptions.defaults()));
      assertThat(result.success()).isTrue();
      write(PROMOTE_SUCCESS, server, MembershipTestServer.promoteId());
    }
  }

  @Test
  void writePromoteNotCaughtUp() throws IOException {
    ScriptedJoinActivities join = new ScriptedJoinActivities(8)
        .fail("awaitLearner", 3, Integer.MAX_VALUE, JoinFailures.UNAVAILABLE, false, "applied 7 of 4200");
    try (MembershipTestServer server = new MembershipTestServer(join, ScriptedMembershipActivities.joined(8))) {
      PromoteResult result = server.newPromote().promote(MembershipTestServer.promoteInput(
          new PromoteOptions(2_000, 30_000, 0, 16)));
      assertThat(result.success()).isFalse();
      write(PROMOTE_NOT_CAUGHT_UP, server, MembershipTestServer.promoteId());
    }
  }

  @Test
  void writeLeaveSuccess() throws IOException {
    try (MembershipTestServer server = new MembershipTestServer(new ScriptedJoinActivities(8),
        ScriptedMembershipActivities.promoted(8))) {
      LeaveResult result = server.newLeave().leave(MembershipTestServer.leaveInput());
      assertThat(result.success()).isTrue();
      write(LEAVE_SUCCESS, server, MembershipTestServer.leaveId());
    }
  }

  private static void write(String name, MembershipTestServer server, String workflowId) throws IOException {
    Path dir = Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "histories");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name), server.history(workflowId).toJson(true) + "\n", StandardCharsets.UTF_8);
  }
}
