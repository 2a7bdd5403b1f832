package io.joinflow.cli;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.pattern.ThrowableHandlingConverter;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxy;
import ch.qos.logback.core.pattern.PatternLayoutBase;
import io.joinflow.worker.ActivityLogInterceptor;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The layout of joinflow's log lines: one event, one line, identity first, and a stack trace
 * only where it shows a bug.
 *
 * <ul>
 *   <li>{@code %identity}: the node, workflow and group of the MDC ({@link ActivityLogInterceptor}),
 *       or the workflow id the Temporal SDK puts there for workflow code, as
 *       {@code " [node 4 join/123/4 group 3]"}; nothing outside any.
 *   <li>{@code %line}: the message with its line breaks folded (Ratis writes "Caused by" lines
 *       into some of its messages).
 *   <li>{@code %failure}: for an exception that says a peer is gone, closing or slow (an I/O
 *       error, a gRPC status, a timeout, an interruption, a Temporal failure), its chain on the
 *       same line. Libraries log those by the hundred when a node stops or dies.
 *   <li>{@code %stack}: the full stack trace of any other exception (a bug, in joinflow or in
 *       a library), and of every exception joinflow's own code logs: it passes one only when it
 *       wants the trace.
 * </ul>
 */
final class LogFormat {
  /** What {@code joinflow.log} and {@code --verbose} show. */
  static final String FULL = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{0}%identity - %line%failure%n%stack";
  /** What the terminal shows without {@code --verbose}: never a stack trace. */
  static final String TERMINAL = "%d{HH:mm:ss.SSS} %-5level %logger{0}%identity - %line%failure%n%nopex";

  private LogFormat() {}

  /** Registers this class's conversion words on a layout (before it starts). */
  static void register(PatternLayoutBase<ILoggingEvent> layout) {
    Map<String, java.util.function.Supplier<ch.qos.logback.core.pattern.DynamicConverter>> words =
        layout.getInstanceConverterMap();
    words.put("identity", IdentityConverter::new);
    words.put("line", LineConverter::new);
    words.put("failure", () -> new FailureConverter(false));
    words.put("stack", () -> new FailureConverter(true));
  }

  /**
   * Whether an event's exception deserves a stack trace: any joinflow logger's, and a library's
   * unless every exception of its chain says a peer is gone, closing or slow.
   */
  static boolean wantsStackTrace(ILoggingEvent event) {
    IThrowableProxy proxy = event.getThrowableProxy();
    if (proxy == null) {
      return false;
    }
    if (event.getLoggerName().startsWith("io.joinflow")) {
      return true;
    }
    return !(proxy instanceof ThrowableProxy p) || !expected(p.getThrowable());
  }

  /** Whether every exception of this chain is one a distributed system meets without a bug. */
  static boolean expected(Throwable t) {
    java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
      if (!(c instanceof CompletionException || c instanceof ExecutionException
          || c instanceof java.io.UncheckedIOException || expectedAlone(c))) {
        return false;
      }
    }
    return true;
  }

  private static boolean expectedAlone(Throwable t) {
    String simple = t.getClass().getSimpleName();
    return t instanceof IOException || t instanceof InterruptedException || t instanceof CancellationException
        || t instanceof TimeoutException || t instanceof io.temporal.failure.TemporalFailure
        || t instanceof io.temporal.client.ActivityCompletionException
        // io.grpc's and the copy shaded into Ratis
        || simple.equals("StatusRuntimeException") || simple.equals("StatusException");
  }

  /** {@code " [node 4 join/123/4 group 3]"} from the MDC, or nothing. */
  public static final class IdentityConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
      Map<String, String> mdc = event.getMDCPropertyMap();
      String node = mdc.get(ActivityLogInterceptor.NODE);
      String workflow = mdc.getOrDefault(ActivityLogInterceptor.WORKFLOW, mdc.get("WorkflowId"));
      String group = mdc.get(ActivityLogInterceptor.GROUP);
      if (node == null && workflow == null && group == null) {
        return "";
      }
      StringBuilder s = new StringBuilder(" [");
      if (node != null) {
        s.append("node ").append(node);
      }
      if (workflow != null) {
        s.append(s.length() > 2 ? " " : "").append(workflow);
      }
      if (group != null) {
        s.append(s.length() > 2 ? " " : "").append("group ").append(group);
      }
      return s.append(']').toString();
    }
  }

  /** The formatted message on one line. */
  public static final class LineConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
      String m = event.getFormattedMessage();
      return m == null || m.indexOf('\n') < 0 && m.indexOf('\r') < 0 ? m : oneLine(m);
    }
  }

  /** The exception, on the message's line ({@code stack=false}) or as a stack trace after it. */
  public static final class FailureConverter extends ThrowableHandlingConverter {
    private final boolean stack;
    private ThrowableProxyConverter trace;

    FailureConverter(boolean stack) {
      this.stack = stack;
    }

    @Override
    public void start() {
      if (stack) {
        trace = new ThrowableProxyConverter();
        trace.setContext(getContext());
        trace.start();
      }
      super.start();
    }

    @Override
    public String convert(ILoggingEvent event) {
      IThrowableProxy proxy = event.getThrowableProxy();
      if (proxy == null || stack != wantsStackTrace(event)) {
        return "";
      }
      if (stack) {
        return trace.convert(event);
      }
      StringBuilder s = new StringBuilder(" (");
      int depth = 0;
      for (IThrowableProxy c = proxy; c != null && depth < 8; c = c.getCause(), depth++) {
        String name = c.getClassName();
        s.append(depth == 0 ? "" : "; caused by ").append(name.substring(name.lastIndexOf('.') + 1));
        if (c.getMessage() != null) {
          s.append(": ").append(oneLine(c.getMessage()));
        }
      }
      return s.append(')').toString();
    }
  }

  static String oneLine(String text) {
    return text.replaceAll("\\s*[\\r\\n]+\\s*", " ");
  }
}
