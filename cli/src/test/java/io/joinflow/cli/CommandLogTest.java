package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import io.joinflow.worker.ActivityLogInterceptor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

class CommandLogTest {
  private static final Logger OWN = LoggerFactory.getLogger("io.joinflow.node.Node");
  private static final Logger ATTEMPTS = LoggerFactory.getLogger(ActivityLogInterceptor.class);
  private static final Logger RATIS = LoggerFactory.getLogger("org.apache.ratis.grpc.server.GrpcLogAppender");

  @TempDir
  Path dir;

  private final StringWriter terminal = new StringWriter();

  @Test
  void shouldWriteEverythingToTheFileAndOnlyJoinflowsWarningsToTheTerminal() throws IOException {
    Path file = dir.resolve(CommandLog.FILE_NAME);
    try (CommandLog log = open(file, false)) {
      assertThat(log.where()).isEqualTo("logs: " + file.toAbsolutePath());
      OWN.info("node 1: serving");
      OWN.warn("node 1: routing of groups [3] still differs");
      ATTEMPTS.warn("node 4 join/1/4 addLearner group 3 attempt 1 failed (Unavailable): no leader");
      RATIS.warn("n1@group-3->n2: Failed appendEntries", new IOException("io exception"));
    }

    String logged = Files.readString(file);
    assertThat(logged).contains("INFO  Node - node 1: serving").contains("node 1: routing of groups [3] still differs")
        .contains("addLearner group 3 attempt 1 failed").contains("Failed appendEntries (IOException: io exception)");
    assertThat(terminal.toString().lines()).singleElement().asString()
        .endsWith("WARN  Node - node 1: routing of groups [3] still differs");
  }

  @Test
  void shouldKeepAStackTraceForABugOnlyAndNeverShowOneOnTheTerminal() throws IOException {
    Path file = dir.resolve(CommandLog.FILE_NAME);
    try (CommandLog log = open(file, false)) {
      RATIS.warn("Failed appendEntries", new java.util.concurrent.CompletionException(
          new org.apache.ratis.protocol.exceptions.ServerNotReadyException("n2 is CLOSING")));
      RATIS.warn("Failed to groupInfo", new java.util.concurrent.CompletionException(
          new IllegalStateException("Found duplicated element n2")));
      OWN.error("node 1: getClusterView failed", new io.grpc.StatusRuntimeException(io.grpc.Status.INTERNAL));
    }

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).anySatisfy(l -> assertThat(l).endsWith(
        "Failed appendEntries (CompletionException: org.apache.ratis.protocol.exceptions.ServerNotReadyException:"
            + " n2 is CLOSING; caused by ServerNotReadyException: n2 is CLOSING)"));
    // A library's IllegalStateException is a bug; joinflow's own code passes an exception when it wants the trace.
    assertThat(String.join("\n", lines)).contains("Failed to groupInfo\njava.util.concurrent.CompletionException")
        .contains("Caused by: java.lang.IllegalStateException: Found duplicated element n2")
        .contains("node 1: getClusterView failed\nio.grpc.StatusRuntimeException: INTERNAL");
    assertThat(lines.stream().filter(l -> l.startsWith("\tat ")).count()).isPositive();
    assertThat(terminal.toString().lines()).singleElement().asString()
        .endsWith("ERROR Node - node 1: getClusterView failed");
  }

  @Test
  void shouldShowTheMdcIdentityAndFoldMultiLineMessages() throws IOException {
    Path file = dir.resolve(CommandLog.FILE_NAME);
    try (CommandLog log = open(file, false)) {
      MDC.put(ActivityLogInterceptor.NODE, "4");
      MDC.put(ActivityLogInterceptor.WORKFLOW, "join/1/4");
      MDC.put(ActivityLogInterceptor.GROUP, "3");
      OWN.info("learner of group 3");
      MDC.clear();
      MDC.put("WorkflowId", "promote/1/4");
      OWN.info("promotion started");
      MDC.clear();
      RATIS.warn("Failed appendEntries: UNAVAILABLE\n  Caused by: Broken pipe");
    }

    assertThat(Files.readAllLines(file))
        .anySatisfy(l -> assertThat(l).endsWith("INFO  Node [node 4 join/1/4 group 3] - learner of group 3"))
        .anySatisfy(l -> assertThat(l).endsWith("INFO  Node [promote/1/4] - promotion started"))
        .anySatisfy(l -> assertThat(l).endsWith("GrpcLogAppender - Failed appendEntries: UNAVAILABLE Caused by: Broken pipe"));
  }

  @Test
  void shouldSendTheFullLogToTheTerminalWhenVerbose() throws IOException {
    Path file = dir.resolve(CommandLog.FILE_NAME);
    try (CommandLog log = open(file, true)) {
      OWN.info("node 1: serving");
      RATIS.warn("Failed appendEntries");
    }

    assertThat(terminal.toString()).contains("node 1: serving").contains("Failed appendEntries");
    assertThat(Files.readString(file)).contains("node 1: serving").contains("Failed appendEntries");
  }

  @Test
  void shouldShowEveryWarningButNoInfoWithoutAFile() {
    try (CommandLog log = open(null, false)) {
      assertThat(log.where()).isNull();
      assertThat(log.file()).isEmpty();
      OWN.info("node 1: serving");
      RATIS.warn("Failed appendEntries", new IOException("io exception"));
    }

    assertThat(terminal.toString().lines()).singleElement().asString()
        .endsWith("WARN  GrpcLogAppender - Failed appendEntries (IOException: io exception)");
  }

  @Test
  void shouldGiveLoggingBackAsItWasWhenClosed() {
    List<String> before = rootAppenders();

    try (CommandLog log = open(dir.resolve(CommandLog.FILE_NAME), false)) {
      log.raise(ch.qos.logback.classic.Level.WARN, List.of("io.joinflow"));
      assertThat(rootAppenders()).doesNotContainAnyElementsOf(before);
      assertThat(OWN.isInfoEnabled()).isFalse();
    }

    assertThat(rootAppenders()).isEqualTo(before);
    assertThat(OWN.isInfoEnabled()).isTrue();
    OWN.warn("after the command");
    assertThat(terminal.toString()).doesNotContain("after the command");
  }

  private CommandLog open(Path file, boolean verbose) {
    return CommandLog.open(file, verbose, CommandLog.Terminal.WARNINGS, new PrintWriter(terminal, true));
  }

  private static List<String> rootAppenders() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    List<String> names = new ArrayList<>();
    for (Iterator<ch.qos.logback.core.Appender<ch.qos.logback.classic.spi.ILoggingEvent>> it =
         context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders(); it.hasNext(); ) {
      names.add(it.next().getName());
    }
    return names;
  }
}
