package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The alerting rules docs/operations.md shows are valid Prometheus rules, and fire on the series
 * their unit tests feed them ({@code promtool check rules}, {@code promtool test rules}).
 */
class PrometheusRulesTest {
  static final Path RULES_DIR = Path.of("..", "docs", "prometheus").toAbsolutePath().normalize();
  static final Path RULES = RULES_DIR.resolve("joinflow-rules.yml");

  @Test
  void shouldPassPromtoolCheckRules() throws Exception {
    Path promtool = RequiredTool.promtool();

    Result r = run(promtool, "check", "rules", RULES.toString());

    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS");
  }

  @Test
  void shouldFireTheDocumentedAlertsInPromtoolsUnitTests() throws Exception {
    Path promtool = RequiredTool.promtool();

    Result r = run(promtool, "test", "rules", RULES_DIR.resolve("joinflow-rules.test.yml").toString());

    assertThat(r.exit()).as(r.output()).isZero();
  }

  @Test
  void shouldBeTheRulesTheOperationsPageShows() throws Exception {
    String page = Files.readString(RULES_DIR.resolveSibling("operations.md"), StandardCharsets.UTF_8);

    assertThat(page).contains("prometheus/joinflow-rules.yml")
        .as("the page shows the checked rules as they are").contains(Files.readString(RULES, StandardCharsets.UTF_8));
    for (String alert : Files.readAllLines(RULES).stream().filter(l -> l.trim().startsWith("- alert: "))
        .map(l -> l.trim().substring("- alert: ".length())).toList()) {
      assertThat(page).as("docs/operations.md explains " + alert).contains(alert);
    }
  }

  record Result(int exit, String output) {}

  static Result run(Path tool, String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = tool.toString();
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
    return new Result(p.exitValue(), out);
  }
}
