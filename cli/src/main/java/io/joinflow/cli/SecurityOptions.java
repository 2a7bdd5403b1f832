package io.joinflow.cli;

import io.joinflow.security.CertsDir;
import io.joinflow.security.Channels;
import io.joinflow.security.Role;
import io.joinflow.security.TlsIdentity;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How a command talks to the cluster: mutual TLS with the certificate of its role from
 * {@code --certs-dir} (created with {@code joinflow cert}), or plaintext with {@code --insecure}.
 */
final class SecurityOptions {
  @Option(names = "--certs-dir", paramLabel = "DIR",
      description = "Certificates directory (ca.crt and this command's certificate, from joinflow cert): mutual TLS.")
  Path certsDir;

  @Option(names = "--insecure", description = "Talk plaintext, without certificates (anyone who reaches a port can use it).")
  boolean insecure;

  /**
   * The transport of a process of {@code role} ({@code nodeId} for nodes). Servers insist that
   * one of the two options is given; clients default to plaintext.
   *
   * @throws IllegalArgumentException with a sentence saying which option to fix
   */
  Channels channels(Role role, long nodeId, boolean server) {
    if (certsDir != null && insecure) {
      throw new IllegalArgumentException("--certs-dir and --insecure contradict each other; pass one of them");
    }
    if (certsDir == null) {
      if (server && !insecure) {
        throw new IllegalArgumentException("pass --certs-dir DIR for mutual TLS (certificates from joinflow cert),"
            + " or --insecure to serve plaintext to anyone who reaches the port");
      }
      return Channels.plaintext();
    }
    try {
      return Channels.tls(new CertsDir(certsDir).identity(role, nodeId));
    } catch (IOException e) {
      String reason = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
          : e.getMessage();
      throw new IllegalArgumentException("--certs-dir " + certsDir + ": " + reason);
    }
  }

  /** The node certificate of {@code nodeId}, or null when plaintext. */
  TlsIdentity node(long nodeId) {
    return channels(Role.NODE, nodeId, true).identity();
  }

  /**
   * What to add to a failed call's message: a plaintext caller that cannot reach a server may be
   * talking to one that requires mutual TLS.
   */
  static String hint(io.grpc.Status status, Channels transport) {
    return status.getCode() == io.grpc.Status.Code.UNAVAILABLE && !transport.secure()
        ? " (if the cluster runs mutual TLS, pass --certs-dir DIR with this command's certificate)" : "";
  }

  /** The line a plaintext server prints at startup. */
  static String insecureWarning(String what) {
    return "WARNING: " + what + " runs INSECURE (--insecure): plaintext, no authentication; anyone who reaches its"
        + " ports can change the cluster";
  }
}
