package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.spi.FilterReply;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class JointConfNoiseTest {
  private final LoggerContext context = new LoggerContext();
  private final JointConfNoise filter = new JointConfNoise();
  private final IllegalStateException bug = new IllegalStateException(
      "Found duplicated element n2|127.0.0.1:7321 in [n1|127.0.0.1:7311, n2|127.0.0.1:7321, n2|127.0.0.1:7321]");

  @Test
  void dropsOnlyTheKnownBugFromRatisAdminService() {
    var admin = context.getLogger(JointConfNoise.LOGGER);
    assertThat(filter.decide(null, admin, Level.WARN, "Failed to groupInfo", null, new CompletionException(bug)))
        .isEqualTo(FilterReply.DENY);
    // As Ratis logs it: a parameterized call whose last parameter is the throwable.
    assertThat(filter.decide(null, admin, Level.WARN, "Failed to {}: {}",
        new Object[] {"groupInfo", "GroupInfoRequest", new CompletionException(bug)}, null)).isEqualTo(FilterReply.DENY);
    assertThat(filter.decide(null, admin, Level.WARN, "Failed to groupInfo", null, new IllegalStateException("other")))
        .isEqualTo(FilterReply.NEUTRAL);
    assertThat(filter.decide(null, admin, Level.WARN, "no throwable", null, null)).isEqualTo(FilterReply.NEUTRAL);
    assertThat(filter.decide(null, context.getLogger("io.joinflow.node.membership.ConfReader"), Level.WARN, "x", null,
        bug)).isEqualTo(FilterReply.NEUTRAL);
  }
}
