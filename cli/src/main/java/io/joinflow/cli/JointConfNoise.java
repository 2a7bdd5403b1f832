package io.joinflow.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops one known Ratis 3.3.0 bug from the logs, and nothing else: while a configuration is
 * joint (a learner being promoted is a listener of the old configuration and a voter of the new),
 * Ratis' {@code getGroup} fails with "Found duplicated element" and its admin service logs the
 * failure with a stack trace. joinflow's configuration reads wait that state out
 * ({@code ConfReader}; {@code JointConfIT} reproduces the bug and shows the reads never fail),
 * so the trace says nothing an operator could act on.
 */
public final class JointConfNoise extends TurboFilter {
  static final String LOGGER = "org.apache.ratis.grpc.server.GrpcAdminProtocolService";
  static final String BUG = "Found duplicated element";

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                            Throwable t) {
    if (logger == null || !LOGGER.equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    // A parameterized call ("Failed to {}: {}", op, request, e) hands the throwable over as its
    // last parameter; logback separates it only after the turbo filters ran.
    Throwable thrown = t != null ? t
        : params != null && params.length > 0 && params[params.length - 1] instanceof Throwable last ? last : null;
    for (Throwable c = thrown; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c.getMessage() != null && c.getMessage().contains(BUG)) {
        return FilterReply.DENY;
      }
    }
    return FilterReply.NEUTRAL;
  }
}
