package io.joinflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Join tokens for tests, issued as an operator issues them: {@code joinflow token ...} with the
 * operator certificate of a certificates directory, through a gateway's CreateToken, ListTokens
 * and RevokeToken.
 */
final class OperatorTokens {
  private final String gateway;
  private final Path certs;

  /** @param certs a certificates directory holding ca.crt and the operator's pair */
  OperatorTokens(String gateway, Path certs) {
    this.gateway = gateway;
    this.certs = certs;
  }

  /** What one {@code joinflow token} command printed and returned. */
  record Run(int exit, String out, String err) {
  }

  /** Runs {@code joinflow token <args> --gateway G --certs-dir D}. */
  Run run(String... args) {
    List<String> all = new ArrayList<>(List.of("token"));
    all.addAll(List.of(args));
    all.addAll(List.of("--gateway", gateway, "--certs-dir", certs.toString()));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    picocli.CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  /** A new token for {@code nodeId} ({@code <id>.<secret>}); throws when the gateway refuses. */
  String create(long nodeId, String ttl) {
    Run r = run("create", "--node-id", Long.toUnsignedString(nodeId), "--ttl", ttl, "--json");
    if (r.exit() != 0) {
      throw new IllegalStateException("joinflow token create failed (" + r.exit() + "): " + r.err());
    }
    return json(r.out()).get("token").asText();
  }

  String create(long nodeId) {
    return create(nodeId, "1h");
  }

  /** The state joinflow token list shows for token {@code id} (issued, in-flight, consumed, revoked, expired). */
  String state(String id) {
    Run r = run("list", "--json");
    if (r.exit() != 0) {
      throw new IllegalStateException("joinflow token list failed (" + r.exit() + "): " + r.err());
    }
    for (JsonNode t : json(r.out()).get("tokens")) {
      if (t.get("id").asText().equals(id)) {
        return t.get("state").asText();
      }
    }
    return "absent";
  }

  static String idOf(String token) {
    return token.substring(0, token.indexOf('.'));
  }

  private static JsonNode json(String text) {
    try {
      return new ObjectMapper().readTree(text.strip());
    } catch (IOException e) {
      throw new IllegalStateException("not JSON: " + text, e);
    }
  }
}
