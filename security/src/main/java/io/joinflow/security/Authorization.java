package io.joinflow.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Authorizes every call by the role in the caller's client certificate: one rule per method of
 * every service a server exposes, checked when the server is built, so a new RPC without a rule
 * cannot be served. A call without a verified client certificate gets {@code UNAUTHENTICATED}; a
 * caller of the wrong role gets {@code PERMISSION_DENIED} naming the roles that may call. The
 * caller's identity is in {@link #CALLER} for the handler.
 */
public final class Authorization implements ServerInterceptor {
  /** The verified caller of the current call. */
  public static final Context.Key<PeerIdentity> CALLER = Context.key("joinflow-caller");

  private final String cluster;
  private final Map<String, Set<Role>> rules;
  private final Set<String> withoutCertificate;

  private Authorization(String cluster, Map<String, Set<Role>> rules, Set<String> withoutCertificate) {
    this.cluster = cluster;
    this.rules = Map.copyOf(rules);
    this.withoutCertificate = Set.copyOf(withoutCertificate);
  }

  /** Whether a caller without a client certificate may call {@code fullMethodName}. */
  public boolean allowedWithoutCertificate(String fullMethodName) {
    return withoutCertificate.contains(fullMethodName);
  }

  /** Rules for the services of one server. */
  public static Builder forServices(String cluster, ServiceDescriptor... services) {
    return new Builder(cluster, List.of(services));
  }

  /** The roles that may call {@code fullMethodName}, or an empty set when none may. */
  public Set<Role> allowed(String fullMethodName) {
    return rules.getOrDefault(fullMethodName, Set.of());
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    PeerIdentity caller;
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session != null && withoutCertificate.contains(method) && !presentedCertificate(session)) {
      // No identity to put in CALLER: the handler checks what the caller proves some other way.
      return next.startCall(call, headers);
    }
    try {
      caller = caller(session);
    } catch (IllegalArgumentException e) {
      call.close(Status.UNAUTHENTICATED.withDescription(method + ": " + e.getMessage()), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    Set<Role> allowed = allowed(method);
    if (!caller.cluster().equals(cluster)) {
      call.close(Status.PERMISSION_DENIED.withDescription(method + ": the caller is " + caller
          + ", this server belongs to cluster " + cluster), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    if (!allowed.contains(caller.role())) {
      call.close(Status.PERMISSION_DENIED.withDescription(method + " needs a certificate of role "
          + allowed.stream().map(Role::label).collect(Collectors.joining(" or "))
          + "; the caller is " + caller), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
  }

  private static boolean presentedCertificate(SSLSession session) {
    try {
      return session.getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  private static PeerIdentity caller(SSLSession session) {
    if (session == null) {
      throw new IllegalArgumentException("this server needs mutual TLS: connect with a certificate from the cluster CA");
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      throw new IllegalArgumentException("the caller presented no client certificate", e);
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
      throw new IllegalArgumentException("the caller presented no X.509 client certificate");
    }
    return PeerIdentity.of(cert);
  }

  /** Collects one rule per method; {@link #build} refuses a service method without one. */
  public static final class Builder {
    private final String cluster;
    private final List<ServiceDescriptor> services;
    private final Map<String, Set<Role>> rules = new HashMap<>();
    private final Set<String> withoutCertificate = new java.util.HashSet<>();

    private Builder(String cluster, List<ServiceDescriptor> services) {
      this.cluster = cluster;
      this.services = services;
    }

    /** Lets {@code roles} call {@code methods}. */
    public Builder allow(Set<Role> roles, MethodDescriptor<?, ?>... methods) {
      for (MethodDescriptor<?, ?> m : methods) {
        rules.merge(m.getFullMethodName(), EnumSet.copyOf(roles), (a, b) -> {
          Set<Role> both = EnumSet.copyOf(a);
          both.addAll(b);
          return both;
        });
      }
      return this;
    }

    /**
     * Lets callers that present no client certificate at all call {@code methods} (over TLS still:
     * plaintext never reaches a secure server). Such a call has no {@link #CALLER}. A caller that
     * presents a certificate is judged by the methods' role rules as usual.
     */
    public Builder allowWithoutCertificate(MethodDescriptor<?, ?>... methods) {
      for (MethodDescriptor<?, ?> m : methods) {
        withoutCertificate.add(m.getFullMethodName());
      }
      return this;
    }

    /** Lets {@code roles} call every method of {@code service}. */
    public Builder allowService(Set<Role> roles, ServiceDescriptor service) {
      return allow(roles, service.getMethods().toArray(MethodDescriptor[]::new));
    }

    public Authorization build() {
      List<String> missing = new ArrayList<>();
      for (ServiceDescriptor s : services) {
        for (MethodDescriptor<?, ?> m : s.getMethods()) {
          if (!rules.containsKey(m.getFullMethodName())) {
            missing.add(m.getFullMethodName());
          }
        }
      }
      if (!missing.isEmpty()) {
        throw new IllegalStateException("no authorization rule for " + missing + ": add one before serving them");
      }
      return new Authorization(cluster, rules, withoutCertificate);
    }
  }
}
