package io.joinflow.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.spi.FilterReply;
import ch.qos.logback.core.util.FileSize;
import io.joinflow.worker.ActivityLogInterceptor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * Where the log of one command goes while it runs. With a file, the file gets the full log
 * (the levels of {@code logback.xml}, in {@link LogFormat#FULL}) and the terminal only what an
 * operator must see: joinflow's own warnings and errors, one line each, never a library's and
 * never a stack trace; a retried activity attempt is in the file only. Without a file the
 * terminal gets every warning and error. {@code --verbose} sends the full log to the terminal
 * too.
 *
 * <p>Logback's root appenders are set aside while the command runs and put back by
 * {@link #close}, as are the levels {@link #raise} changed, so a command run in-process (as the
 * tests run them) leaves logging as it found it. In a process that ends with its command
 * ({@link #untilExit}) the log stays as it is to the end instead: Ratis' threads and the
 * shutdown hooks still log after a command closed its cluster, and that belongs in the file,
 * not on the terminal.
 */
final class CommandLog implements AutoCloseable {
  /** The log file's name in a command's data dir. */
  static final String FILE_NAME = "joinflow.log";
  /** A log file past this size rolls over; three old ones are kept ({@code joinflow.1.log}...). */
  private static final FileSize ROLL_AT = FileSize.valueOf("50MB");

  /** What the terminal shows of joinflow's own log when there is a file and no --verbose. */
  enum Terminal {
    /** Warnings and errors. */
    WARNINGS,
    /** Errors only: for a command that reports what went wrong itself (the bench). */
    ERRORS
  }

  /** Set once by {@link Main#main}: logging is this process's, so {@link #close} leaves it be. */
  private static volatile boolean untilExit;

  private final LoggerContext context;
  private final Path file;
  private final List<Appender<ILoggingEvent>> setAside = new ArrayList<>();
  private final List<Appender<ILoggingEvent>> added = new ArrayList<>();
  private final Map<String, Level> levels = new LinkedHashMap<>();

  private CommandLog(LoggerContext context, Path file) {
    this.context = context;
    this.file = file;
  }

  /**
   * Sends the log to {@code file} (null: none) and what the terminal should see of it to
   * {@code terminal}. When the file cannot be written, says so on the terminal and goes on
   * without it.
   */
  static CommandLog open(Path file, boolean verbose, Terminal shown, PrintWriter terminal) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return new CommandLog(null, null);
    }
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Appender<ILoggingEvent> fileAppender = file == null ? null : fileAppender(context, file.toAbsolutePath());
    if (file != null && !fileAppender.isStarted()) {
      terminal.println("joinflow: cannot write the log file " + file + "; warnings go to stderr instead");
      terminal.flush();
      fileAppender = null;
    }
    CommandLog log = new CommandLog(context, fileAppender == null ? null : file.toAbsolutePath());
    for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
      log.setAside.add(it.next());
    }
    log.setAside.forEach(root::detachAppender);
    if (fileAppender != null) {
      log.attach(root, fileAppender);
    }
    Predicate<ILoggingEvent> shows;
    if (verbose) {
      shows = event -> true;
    } else if (fileAppender == null) {
      shows = event -> event.getLevel().isGreaterOrEqual(shown == Terminal.ERRORS ? Level.ERROR : Level.WARN);
    } else {
      shows = event -> forOperator(event, shown);
    }
    log.attach(root, terminalAppender(context, terminal, verbose ? LogFormat.FULL : LogFormat.TERMINAL, shows));
    return log;
  }

  /** What the terminal shows while a file gets the full log. */
  private static boolean forOperator(ILoggingEvent event, Terminal shown) {
    if (!event.getLoggerName().startsWith("io.joinflow")) {
      return false;
    }
    if (event.getLevel().isGreaterOrEqual(Level.ERROR)) {
      return true;
    }
    // A retried attempt is how a join rides out a leader change; the command says how it ended.
    return shown == Terminal.WARNINGS && event.getLevel().isGreaterOrEqual(Level.WARN)
        && !event.getLoggerName().equals(ActivityLogInterceptor.class.getName());
  }

  /** The log file, if the log goes to one. */
  Optional<Path> file() {
    return Optional.ofNullable(file);
  }

  /** "logs: FILE", or null without a file: the line a command prints once at its start. */
  String where() {
    return file == null ? null : "logs: " + file;
  }

  /** Sets these loggers to {@code level} until {@link #close}. */
  void raise(Level level, List<String> loggers) {
    if (context == null) {
      return;
    }
    for (String name : loggers) {
      Logger logger = context.getLogger(name);
      levels.putIfAbsent(name, logger.getLevel());
      logger.setLevel(level);
    }
  }

  /**
   * From now on, every command's log stays until the JVM exits: the process runs one command
   * and ends with it.
   */
  static void untilExit() {
    untilExit = true;
  }

  /**
   * Closes the file and gives logging back what it had before {@link #open}, unless the log
   * stays until the process exits (the file is flushed at every event either way).
   */
  @Override
  public void close() {
    if (context == null || untilExit) {
      return;
    }
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    setAside.forEach(root::addAppender);
    for (Appender<ILoggingEvent> a : added) {
      root.detachAppender(a);
      a.stop();
    }
    // A null level means "inherit", which is what the logger had before.
    levels.forEach((name, level) -> context.getLogger(name).setLevel(level));
    added.clear();
    setAside.clear();
    levels.clear();
  }

  private void attach(Logger root, Appender<ILoggingEvent> appender) {
    added.add(appender);
    root.addAppender(appender);
  }

  private static Appender<ILoggingEvent> fileAppender(LoggerContext context, Path file) {
    RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
    appender.setContext(context);
    appender.setName("joinflow-file");
    appender.setFile(file.toString());
    appender.setAppend(true);
    FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
    rolling.setContext(context);
    rolling.setParent(appender);
    String name = file.getFileName().toString();
    String stem = name.endsWith(".log") ? name.substring(0, name.length() - 4) : name;
    rolling.setFileNamePattern(file.resolveSibling(stem + ".%i.log").toString());
    rolling.setMinIndex(1);
    rolling.setMaxIndex(3);
    SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
    trigger.setContext(context);
    trigger.setMaxFileSize(ROLL_AT);
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout(context, LogFormat.FULL));
    appender.setEncoder(encoder);
    appender.setRollingPolicy(rolling);
    appender.setTriggeringPolicy(trigger);
    rolling.start();
    trigger.start();
    encoder.start();
    appender.start();
    return appender;
  }

  private static Appender<ILoggingEvent> terminalAppender(LoggerContext context, PrintWriter terminal, String pattern,
                                                          Predicate<ILoggingEvent> shows) {
    TerminalAppender appender = new TerminalAppender(terminal, layout(context, pattern));
    appender.setContext(context);
    appender.setName("joinflow-terminal");
    Filter<ILoggingEvent> filter = new Filter<>() {
      @Override
      public FilterReply decide(ILoggingEvent event) {
        return shows.test(event) ? FilterReply.NEUTRAL : FilterReply.DENY;
      }
    };
    filter.setContext(context);
    filter.start();
    appender.addFilter(filter);
    appender.start();
    return appender;
  }

  private static PatternLayout layout(LoggerContext context, String pattern) {
    PatternLayout layout = new PatternLayout();
    layout.setContext(context);
    layout.setPattern(pattern);
    LogFormat.register(layout);
    layout.start();
    return layout;
  }

  /**
   * Writes to the command's own error stream (picocli's, so an in-process run captures it)
   * rather than to {@code System.err}.
   */
  private static final class TerminalAppender extends AppenderBase<ILoggingEvent> {
    private final PrintWriter out;
    private final PatternLayout layout;

    TerminalAppender(PrintWriter out, PatternLayout layout) {
      this.out = out;
      this.layout = layout;
    }

    @Override
    protected void append(ILoggingEvent event) {
      out.print(layout.doLayout(event));
      out.flush();
    }
  }
}
