package io.joinflow.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SummariesTest {
  @Test
  void shouldKeepASummaryThatFits() {
    assertThat(Summaries.fit("add learner node 4 to group 3")).isEqualTo("add learner node 4 to group 3");
    String exactly = "x".repeat(Summaries.MAX_SUMMARY_BYTES);
    assertThat(Summaries.fit(exactly)).isSameAs(exactly);
  }

  @Test
  void shouldCutALongSummaryToTwoHundredBytesWithAnEllipsis() {
    String cut = Summaries.fit("join node 4 at " + "h".repeat(300) + ":7000");
    assertThat(cut.getBytes(StandardCharsets.UTF_8)).hasSize(Summaries.MAX_SUMMARY_BYTES);
    assertThat(cut).startsWith("join node 4 at hhh").endsWith("...");
  }

  @Test
  void shouldCountBytesNotCharsAndNeverSplitACharacter() {
    // 100 two-byte characters and 50 four-byte ones: 400 bytes in 150 chars.
    String text = "é".repeat(100) + "😀".repeat(50);
    String cut = Summaries.fit(text);
    assertThat(cut.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(Summaries.MAX_SUMMARY_BYTES);
    assertThat(cut).endsWith("...");
    assertThat(text).startsWith(cut.substring(0, cut.length() - 3));
    assertThat(cut.codePoints().noneMatch(cp -> Character.isSurrogate((char) cp))).isTrue();
  }
}
