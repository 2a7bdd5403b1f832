package io.joinflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.joinflow.proto.HostPort;
import io.joinflow.proto.v1.CreateTokenRequest;
import io.joinflow.proto.v1.CreateTokenResponse;
import io.joinflow.proto.v1.JoinServiceGrpc;
import io.joinflow.proto.v1.ListTokensRequest;
import io.joinflow.proto.v1.ListTokensResponse;
import io.joinflow.proto.v1.RevokeTokenRequest;
import io.joinflow.proto.v1.RevokeTokenResponse;
import io.joinflow.proto.v1.TokenInfo;
import io.joinflow.security.Channels;
import io.joinflow.security.Role;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow token}: single-use join tokens, bound to one node id, created, listed and
 * revoked through a gateway as the operator. Exit 0 on success, 1 when the gateway refuses or
 * cannot be reached, 2 on bad arguments.
 */
@Command(name = "token", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Creates, lists and revokes single-use join tokens (joinflow node --token).",
    subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class})
public final class TokenCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Option(names = "--gateway", required = true, paramLabel = "HOST:PORT", scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "A JoinService address.")
  String gateway;

  @Option(names = "--json", scope = picocli.CommandLine.ScopeType.INHERIT, description = "Print JSON.")
  boolean json;

  @Option(names = "--timeout-seconds", paramLabel = "S", defaultValue = "20", scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "Deadline of the call (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a subcommand: create, list or revoke");
  }

  @FunctionalInterface
  interface Call {
    int run(JoinServiceGrpc.JoinServiceBlockingStub stub, PrintWriter out);
  }

  /** Calls the gateway as the operator; prints the refusal and returns 1 when it fails. */
  int call(String command, SecurityOptions security, Call call) {
    PrintWriter err = spec.commandLine().getErr();
    Channels transport;
    try {
      HostPort.parse(gateway);
      transport = security.channels(Role.OPERATOR, 0, false);
    } catch (IllegalArgumentException e) {
      err.println("joinflow token " + command + ": " + e.getMessage());
      err.flush();
      return 2;
    }
    ManagedChannel channel = transport.channel(gateway);
    try {
      int code = call.run(JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS),
          spec.commandLine().getOut());
      spec.commandLine().getOut().flush();
      return code;
    } catch (StatusRuntimeException e) {
      err.println("joinflow token " + command + ": " + gateway + ": " + e.getStatus().getCode() + " "
          + e.getStatus().getDescription() + SecurityOptions.hint(e.getStatus(), transport));
      err.flush();
      return 1;
    } finally {
      channel.shutdownNow();
    }
  }

  static ObjectNode json(TokenInfo t) {
    ObjectNode o = new ObjectMapper().createObjectNode().put("id", t.getId())
        .put("node_id", Long.toUnsignedString(t.getNodeId()))
        .put("state", state(t)).put("expires_at", Instant.ofEpochMilli(t.getExpiresAtMillis()).toString());
    if (!t.getWorkflowId().isEmpty()) {
      o.put("workflow_id", t.getWorkflowId());
    }
    return o;
  }

  /** issued, in-flight, consumed, revoked, or expired (issued but past its expiry). */
  static String state(TokenInfo t) {
    if (t.getExpired()) {
      return "expired";
    }
    return switch (t.getState()) {
      case TOKEN_ISSUED -> "issued";
      case TOKEN_IN_FLIGHT -> "in-flight";
      case TOKEN_CONSUMED -> "consumed";
      case TOKEN_REVOKED -> "revoked";
      default -> t.getState().name().toLowerCase(Locale.ROOT);
    };
  }

  /** {@code 90s}, {@code 30m}, {@code 1h}, {@code 2d} or an ISO-8601 duration. */
  static Duration parseTtl(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.matches("[0-9]+[smhd]")) {
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        return switch (t.charAt(t.length() - 1)) {
          case 's' -> Duration.ofSeconds(n);
          case 'm' -> Duration.ofMinutes(n);
          case 'h' -> Duration.ofHours(n);
          default -> Duration.ofDays(n);
        };
      }
      return Duration.parse(text.trim());
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("--ttl must be like 90s, 30m, 1h or 2d, not '" + text + "'");
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Creates a join token for one node id; the token is shown once.")
  static final class Create implements Callable<Integer> {
    @ParentCommand
    TokenCommand parent;

    @Mixin
    SecurityOptions security = new SecurityOptions();

    @Option(names = "--node-id", required = true, paramLabel = "ID", description = "The node the token admits.")
    String nodeId;

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h",
        description = "How long the token may start a join, e.g. 30m, 1h, 2d (default: ${DEFAULT-VALUE}, at most 7d).")
    String ttl;

    @Override
    public Integer call() {
      long id;
      Duration d;
      try {
        id = Long.parseUnsignedLong(nodeId.trim());
        if (id == 0) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        return usage("--node-id must be a non-zero unsigned integer, not '" + nodeId + "'");
      }
      try {
        d = parseTtl(ttl);
      } catch (IllegalArgumentException e) {
        return usage(e.getMessage());
      }
      if (d.getSeconds() < 1) {
        return usage("--ttl must be at least one second");
      }
      long seconds = d.getSeconds();
      return parent.call("create", security, (stub, out) -> {
        CreateTokenResponse r = stub.createToken(CreateTokenRequest.newBuilder().setNodeId(id).setTtlSeconds(seconds)
            .build());
        if (parent.json) {
          out.println(new ObjectMapper().createObjectNode().put("token", r.getToken())
              .put("node_id", r.getNodeId()).put("expires_at", r.getExpiresAtMillis()));
        } else {
          out.println(r.getToken());
          out.println("join token " + r.getId() + " for node " + Long.toUnsignedString(r.getNodeId()) + ", valid until "
              + Instant.ofEpochMilli(r.getExpiresAtMillis()) + "; it is shown only now: pass it to joinflow node --token");
        }
        return 0;
      });
    }

    private int usage(String message) {
      PrintWriter err = parent.spec.commandLine().getErr();
      err.println("joinflow token create: " + message);
      err.flush();
      return 2;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Lists the join tokens: id, node id, state and expiry (never a secret).")
  static final class ListTokens implements Callable<Integer> {
    @ParentCommand
    TokenCommand parent;

    @Mixin
    SecurityOptions security = new SecurityOptions();

    @Override
    public Integer call() {
      return parent.call("list", security, (stub, out) -> {
        ListTokensResponse r = stub.listTokens(ListTokensRequest.getDefaultInstance());
        if (parent.json) {
          ObjectNode o = new ObjectMapper().createObjectNode();
          var array = o.putArray("tokens");
          r.getTokensList().forEach(t -> array.add(json(t)));
          out.println(o);
        } else {
          out.printf("%-8s %-20s %-10s %-26s %s%n", "ID", "NODE", "STATE", "EXPIRES", "JOIN");
          for (TokenInfo t : r.getTokensList()) {
            out.printf("%-8s %-20s %-10s %-26s %s%n", t.getId(), Long.toUnsignedString(t.getNodeId()), state(t),
                Instant.ofEpochMilli(t.getExpiresAtMillis()), t.getWorkflowId());
          }
        }
        return 0;
      });
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Makes a join token unusable.")
  static final class Revoke implements Callable<Integer> {
    @ParentCommand
    TokenCommand parent;

    @Mixin
    SecurityOptions security = new SecurityOptions();

    @Parameters(index = "0", paramLabel = "ID", description = "The token's id (the part before the dot).")
    String id;

    @Override
    public Integer call() {
      // An operator may paste the whole token: only its id is sent.
      String tokenId = id.contains(".") ? id.substring(0, id.indexOf('.')) : id;
      return parent.call("revoke", security, (stub, out) -> {
        RevokeTokenResponse r = stub.revokeToken(RevokeTokenRequest.newBuilder().setId(tokenId).build());
        if (parent.json) {
          out.println(json(r.getToken()).put("already_revoked", r.getAlreadyRevoked()));
        } else {
          out.println("join token " + r.getToken().getId() + (r.getAlreadyRevoked() ? " was already revoked" : " revoked"));
        }
        return 0;
      });
    }
  }
}
