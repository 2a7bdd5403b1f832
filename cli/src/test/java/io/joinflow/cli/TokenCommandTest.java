package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.joinflow.proto.v1.TokenInfo;
import io.joinflow.proto.v1.TokenState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TokenCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int joinflow(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void readsTimesToLiveAsOperatorsWriteThem() {
    assertThat(TokenCommand.parseTtl("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(TokenCommand.parseTtl("30m")).isEqualTo(Duration.ofMinutes(30));
    assertThat(TokenCommand.parseTtl("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(TokenCommand.parseTtl("2d")).isEqualTo(Duration.ofDays(2));
    assertThat(TokenCommand.parseTtl("PT5M")).isEqualTo(Duration.ofMinutes(5));
    assertThatThrownBy(() -> TokenCommand.parseTtl("soon")).hasMessage("--ttl must be like 90s, 30m, 1h or 2d, not 'soon'");
  }

  @Test
  void refusesBadArgumentsBeforeCallingAnyGateway() {
    assertThat(joinflow("token", "create", "--gateway", "127.0.0.1:1", "--node-id", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("joinflow token create: --node-id must be a non-zero unsigned integer");
    assertThat(joinflow("token", "create", "--gateway", "127.0.0.1:1", "--node-id", "4", "--ttl", "0s")).isEqualTo(2);
    assertThat(err.toString()).contains("--ttl must be at least one second");
    assertThat(joinflow("token", "list", "--gateway", "127.0.0.1:1", "--certs-dir", "/nonexistent", "--insecure"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--certs-dir and --insecure contradict each other");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void showsAnIssuedTokenPastItsExpiryAsExpired() {
    TokenInfo.Builder t = TokenInfo.newBuilder().setId("abc123").setNodeId(4).setState(TokenState.TOKEN_ISSUED);
    assertThat(TokenCommand.state(t.build())).isEqualTo("issued");
    assertThat(TokenCommand.state(t.setExpired(true).build())).isEqualTo("expired");
    assertThat(TokenCommand.state(t.setExpired(false).setState(TokenState.TOKEN_IN_FLIGHT).build())).isEqualTo("in-flight");
  }
}
