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
 * Writes the history fixtures that {@link JoinReplayTest} replays, by running the real
 * {@link JoinWorkflowImpl} against {@link ScriptedJoinActivities}, named after the current
 * version of the steps. The fixtures are the record of what published workflow code did: a
 * change that no longer replays them is a bug in the change, not a reason to regenerate. So
 * this only writes when asked explicitly, and never over an existing file:
 *
 * <pre>mvn -pl workflows test -Dtest=JoinHistoryFixturesTest -Djoinflow.histories.write=true</pre>
 *
 * and is skipped otherwise.
 */
class JoinHistoryFixturesTest {
  static final String WRITE_PROPERTY = "joinflow.histories.write";
  // Written by version 1 of the steps.
  static final String SUCCESS = "join-success-8-groups.json";
  static final String RETRIED = "join-add-learner-retried-after-leader-change.json";
  static final String COMPENSATED = "join-compensated.json";
  // Written by version 2 of the steps.
  static final String V2_SUCCESS = "join-v2-success-8-groups.json";
  static final String V2_RETRIED = "join-v2-add-learner-retried-after-leader-change.json";
  static final String V2_COMPENSATED = "join-v2-compensated.json";
  // Written by the current version; a new version adds its own files beside the old ones.
  static final String CURRENT = "join-v" + JoinWorkflowImpl.STEPS_VERSION + "-";
  static final String CURRENT_SUCCESS = CURRENT + "success-8-groups.json";
  static final String CURRENT_RETRIED = CURRENT + "add-learner-retried-after-leader-change.json";
  static final String CURRENT_COMPENSATED = CURRENT + "compensated.json";

  @BeforeEach
  void onlyWhenAsked() {
    assumeTrue(Boolean.getBoolean(WRITE_PROPERTY),
        "history fixtures are kept as committed; set -D" + WRITE_PROPERTY + "=true to rewrite them");
  }

  @Test
  void writeSuccess() throws IOException {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(8);
    try (JoinTestServer server = new JoinTestServer(cluster)) {
      JoinResult result = server.newJoin().join(ScriptedJoinActivities.input(JoinOptions.defaults()));
      assertThat(result.success()).isTrue();
      write(CURRENT_SUCCESS, server);
    }
  }

  @Test
  void writeAddLearnerRetriedAfterLeaderChange() throws IOException {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(8)
        .fail("addLearner", 5, 1, JoinFailures.UNAVAILABLE, false,
            "group 5: leader changed from node 1 to node 2 during the conf change; retry on the new leader");
    try (JoinTestServer server = new JoinTestServer(cluster)) {
      JoinResult result = server.newJoin().join(ScriptedJoinActivities.input(JoinOptions.defaults()));
      assertThat(result.success()).isTrue();
      write(CURRENT_RETRIED, server);
    }
  }

  @Test
  void writeCompensated() throws IOException {
    ScriptedJoinActivities cluster = new ScriptedJoinActivities(8)
        .fail("addLearner", 5, 1, JoinFailures.FAILED_PRECONDITION, true,
            "group 5: configuration changed concurrently by another membership change");
    try (JoinTestServer server = new JoinTestServer(cluster)) {
      JoinResult result = server.newJoin().join(ScriptedJoinActivities.input(new JoinOptions(120_000, 4)));
      assertThat(result.success()).isFalse();
      assertThat(result.error()).startsWith("addLearner of group 5 failed");
      write(CURRENT_COMPENSATED, server);
    }
  }

  private static void write(String name, JoinTestServer server) throws IOException {
    Path dir = Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "histories");
    Files.createDirectories(dir);
    Path file = dir.resolve(name);
    // A fixture records what published code did; it is never rewritten. A change to the steps
    // bumps STEPS_VERSION, which names new files.
    assertThat(file).as("committed fixture " + name + " is kept as it is").doesNotExist();
    Files.writeString(file, server.history().toJson(true) + "\n", StandardCharsets.UTF_8);
  }
}
