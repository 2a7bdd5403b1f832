package io.joinflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.joinflow.security.CertsDir;
import io.joinflow.security.PeerIdentity;
import io.joinflow.security.Role;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code joinflow cert}: the cluster CA and its certificates, like {@code cockroach cert}. Every
 * file is written 0600 and never overwritten. Exit 0 on success, 1 when a file exists or is
 * missing (the message says which and what to run), 2 on bad input.
 */
@Command(name = "cert", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Creates the cluster CA and node and client certificates in a certificates directory.",
    subcommands = {CertCommand.CreateCa.class, CertCommand.CreateNode.class, CertCommand.CreateClient.class,
        CertCommand.CaHash.class})
public final class CertCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Option(names = "--certs-dir", required = true, paramLabel = "DIR", scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "The certificates directory (ca.crt, ca.key, node.<id>.crt/.key, <role>.crt/.key).")
  Path certsDir;

  @Option(names = "--json", scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "Print one JSON object: the identity and the files written.")
  boolean json;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
        "name a subcommand: create-ca, create-node, create-client or ca-hash");
  }

  /** Prints what was written and returns the exit code. */
  int report(String what, PeerIdentity who, List<Path> files) {
    return report(what, who, files, null);
  }

  /** {@link #report} with the CA's pin ({@code caHash}, or null) for joinflow node --ca-hash. */
  int report(String what, PeerIdentity who, List<Path> files, String caHash) {
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectMapper m = new ObjectMapper();
      ObjectNode o = m.createObjectNode().put("created", what);
      if (who != null) {
        o.put("identity", who.uri().toString());
      }
      files.forEach(f -> o.withArray("files").add(f.toString()));
      if (caHash != null) {
        o.put("ca_hash", caHash);
      }
      out.println(o);
    } else {
      out.println("created " + what + (who == null ? "" : " (" + who.uri() + ")") + ":");
      files.forEach(f -> out.println("  " + f));
      if (caHash != null) {
        out.println("ca hash (joinflow node --ca-hash): " + caHash);
      }
    }
    out.flush();
    return 0;
  }

  int fail(String command, Exception e) {
    PrintWriter err = spec.commandLine().getErr();
    String reason = e.getMessage();
    if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
      reason = fse.getFile() + ": " + fse.getReason();
    }
    err.println("joinflow cert " + command + ": " + reason);
    err.flush();
    return e instanceof IllegalArgumentException ? 2 : 1;
  }

  @Command(name = "create-ca", mixinStandardHelpOptions = true,
      description = "Creates the cluster's CA (an ECDSA P-256 key and a self-signed certificate naming the cluster).")
  static final class CreateCa implements Callable<Integer> {
    @ParentCommand
    CertCommand parent;

    @Option(names = "--cluster", paramLabel = "NAME", defaultValue = "joinflow",
        description = "The cluster's name in every identity (a DNS label; default: ${DEFAULT-VALUE}).")
    String cluster;

    @Override
    public Integer call() {
      CertsDir dir = new CertsDir(parent.certsDir);
      io.joinflow.security.CertificateAuthority ca;
      try {
        ca = dir.createCa(cluster);
      } catch (IOException | IllegalArgumentException e) {
        return parent.fail("create-ca", e);
      }
      return parent.report("CA for cluster " + cluster, null, List.of(dir.caCertificate(), dir.path().resolve("ca.key")),
          io.joinflow.security.CaPin.of(ca.certificate()));
    }
  }

  @Command(name = "ca-hash", mixinStandardHelpOptions = true,
      description = "Prints the CA's pin, sha256:<hex> of its public key, for joinflow node --ca-hash.")
  static final class CaHash implements Callable<Integer> {
    @ParentCommand
    CertCommand parent;

    @Override
    public Integer call() {
      String hash;
      try {
        hash = io.joinflow.security.CaPin.of(new CertsDir(parent.certsDir).readCaCertificate());
      } catch (IOException | IllegalArgumentException e) {
        return parent.fail("ca-hash", e);
      }
      PrintWriter out = parent.spec.commandLine().getOut();
      out.println(parent.json ? new ObjectMapper().createObjectNode().put("ca_hash", hash).toString() : hash);
      out.flush();
      return 0;
    }
  }

  @Command(name = "create-node", mixinStandardHelpOptions = true,
      description = "Issues a node's certificate: its identity joinflow://<cluster>/node/<id> and the hosts it listens on.")
  static final class CreateNode implements Callable<Integer> {
    @ParentCommand
    CertCommand parent;

    @Option(names = "--node-id", required = true, paramLabel = "ID", description = "The node's id (non-zero).")
    String nodeId;

    @Option(names = "--host", required = true, split = ",", paramLabel = "HOST",
        description = "DNS names or IP addresses the node's ports are reached at (repeat or comma-separate).")
    List<String> hosts = new ArrayList<>();

    @Override
    public Integer call() {
      long id;
      try {
        id = Long.parseUnsignedLong(nodeId.trim());
        if (id == 0) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        return parent.fail("create-node", new IllegalArgumentException("--node-id must be a non-zero unsigned integer, not '"
            + nodeId + "'"));
      }
      return issue(parent, "create-node", Role.NODE, id, hosts);
    }
  }

  @Command(name = "create-client", mixinStandardHelpOptions = true,
      description = "Issues a client certificate for a role: worker, gateway, operator or client.")
  static final class CreateClient implements Callable<Integer> {
    @ParentCommand
    CertCommand parent;

    @Option(names = "--role", required = true, paramLabel = "ROLE",
        description = "worker, gateway, operator or client.")
    String role;

    @Option(names = "--host", split = ",", paramLabel = "HOST",
        description = "Hosts a server of this role listens on (a gateway's JoinService); none for pure clients.")
    List<String> hosts = new ArrayList<>();

    @Override
    public Integer call() {
      Role r;
      try {
        r = Role.parse(role);
        if (r == Role.NODE) {
          throw new IllegalArgumentException("node certificates come from create-node --node-id N");
        }
      } catch (IllegalArgumentException e) {
        return parent.fail("create-client", e);
      }
      return issue(parent, "create-client", r, 0, hosts);
    }
  }

  private static int issue(CertCommand parent, String command, Role role, long id, List<String> hosts) {
    CertsDir dir = new CertsDir(parent.certsDir);
    PeerIdentity who;
    try {
      who = dir.issue(role, id, hosts);
    } catch (IOException | IllegalArgumentException e) {
      return parent.fail(command, e);
    }
    return parent.report(role == Role.NODE ? "node " + Long.toUnsignedString(id) + " certificate" : role.label()
        + " certificate", who, List.of(dir.certificate(role, id), dir.privateKey(role, id)));
  }
}
