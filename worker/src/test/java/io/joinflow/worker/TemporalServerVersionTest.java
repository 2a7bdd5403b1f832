package io.joinflow.worker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TemporalServerVersionTest {
  @Test
  void shouldParseServerVersions() {
    assertThat(TemporalServerVersion.parse("1.32.0")).hasValueSatisfying(v -> {
      assertThat(v.major()).isEqualTo(1);
      assertThat(v.minor()).isEqualTo(32);
    });
    assertThat(TemporalServerVersion.parse("v1.25.2-rc1")).hasValueSatisfying(v -> assertThat(v.patch()).isEqualTo(2));
    assertThat(TemporalServerVersion.parse("1.26")).hasValueSatisfying(v -> assertThat(v.patch()).isZero());
    assertThat(TemporalServerVersion.parse("")).isEmpty();
    assertThat(TemporalServerVersion.parse("cloud")).isEmpty();
    assertThat(TemporalServerVersion.parse(null)).isEmpty();
  }

  @Test
  void shouldRefuseAServerWithoutTheUseExistingConflictPolicy() {
    TemporalServerVersion old = TemporalServerVersion.parse("1.23.1").orElseThrow();
    assertThat(old.refusal("t:7233")).hasValueSatisfying(m -> assertThat(m)
        .contains("version 1.23.1").contains("needs 1.24.0 or newer").contains("USE_EXISTING"));
    assertThat(TemporalServerVersion.parse("1.24.0").orElseThrow().refusal("t:7233")).isEmpty();
  }

  @Test
  void shouldWarnAboutAServerThatDropsSummaries() {
    assertThat(TemporalServerVersion.parse("1.24.3").orElseThrow().warning("t:7233"))
        .hasValueSatisfying(m -> assertThat(m).contains("before 1.25.0").contains("summaries"));
    assertThat(TemporalServerVersion.parse("1.25.0").orElseThrow().warning("t:7233")).isEmpty();
    assertThat(TemporalServerVersion.parse("2.0.0").orElseThrow().warning("t:7233")).isEmpty();
  }
}
