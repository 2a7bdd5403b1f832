package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.joinflow.node.Node;
import io.joinflow.proto.v1.JoinResponse;
import io.joinflow.workflows.JoinOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The operator's view of a join: node 4 joins a 3-node cluster on the Temporal CLI's dev server,
 * and Debian's Chromium, driven by its chromedriver, opens the join in the real Temporal Web UI.
 * An operator sees the join's static summary and details (User Metadata tab), the summary of
 * every step, the per-group ones included (Event History, compact view), the answer of the
 * {@code progress} query run against the live worker (Queries tab, with the query's
 * description), and the join in the workflow list filtered by {@code JoinPhase="done"}, where
 * the promotion that follows it (phase {@code promote-...}) is not.
 *
 * <p>With {@code -Djoinflow.screenshot=true} the compact history is saved as the README's
 * {@code docs/images/join-history.png}; otherwise the screenshot goes to the test's temp dir.
 */
// Each test's own bound (a hang fails here, by name, instead of in the fork timeout).
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WebUiIT {
  private static final long NODE = 4;
  private static final int DATA_GROUPS = 3;
  private static final Duration PAGE_WAIT = Duration.ofSeconds(30);

  // Selenium warns that it has no CDP binding for this Chromium; the test uses WebDriver only.
  private static final Logger CDP_LOG = Logger.getLogger("org.openqa.selenium.devtools");

  @TempDir
  static Path dir;

  private static DevCluster cluster;
  private static ChromeDriver browser;
  private static JoinResponse joined;
  private static String ui;
  private static String clusterId;
  private static String listenAddr;

  @BeforeAll
  static void joinNodeFourAndOpenABrowser() throws Exception {
    Path temporal = RequiredTool.temporal();
    Path chromium = RequiredTool.chromium();
    Path chromedriver = RequiredTool.chromedriver();
    int base = Ports.freeBase(60);
    cluster = DevCluster.start(new DevCluster.Settings(3, DATA_GROUPS, base, dir.resolve("cluster"),
            JoinOptions.defaults()).withTemporal(TemporalChoice.cli(temporal), true),
        line -> System.out.println("[dev] " + line));
    Node four = cluster.startNode(NODE, false);
    listenAddr = four.config().listen().toString();
    joined = cluster.join(four, line -> System.out.println("[node 4] " + line));
    assertThat(joined).as("node 4 was a member already").isNotNull();
    assertThat(joined.getSuccess()).as(joined.getError()).isTrue();
    clusterId = Long.toUnsignedString(joined.getClusterId());
    ui = "http://127.0.0.1:" + (base + 2);
    assertThat(joined.getUiUrl()).startsWith(ui + "/namespaces/joinflow/workflows/").endsWith("/history");
    browser = openChromium(chromium, chromedriver, Files.createDirectories(dir.resolve("chromium-profile")));
  }

  @AfterAll
  static void stop() {
    try {
      if (browser != null) {
        browser.quit();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  @Test
  void shouldShowTheJoinsSummaryAndDetailsUnderUserMetadata() {
    openJoinHistory();
    clickTab("User Metadata");

    // The UI renders each Markdown field in an iframe of its own.
    assertThat(frameText("user-metadata-summary", "join node"))
        .isEqualTo("join node 4 at " + listenAddr + " into cluster " + clusterId);
    assertThat(frameText("user-metadata-details", "Join of node"))
        .contains("Join of node 4 into cluster " + clusterId)
        .contains("listen address", listenAddr)
        .contains("The progress query shows the phase and every group");
    // The Markdown renderer sets "4/4" with a fraction slash.
    assertThat(frameText("user-metadata-current-details", "caught up")).isEqualTo("done: 4\u20444 caught up");
  }

  @Test
  void shouldShowTheSummaryOfEveryStepInTheCompactHistory() throws Exception {
    openJoinHistory();
    click(By.xpath("//button[normalize-space()='Compact']"));

    List<String> steps = List.of(
        // prepare stands for validate, registerPeer and admit; finish for persist and broadcast
        "validate, register and admit node 4 at " + listenAddr,
        // group 0 is the metadata group, 1..3 the data groups
        "add learner node 4 to group 0", "add learner node 4 to group 1",
        "add learner node 4 to group 2", "add learner node 4 to group 3",
        "wait for node 4 to catch up in group 0", "wait for node 4 to catch up in group 3",
        "persist node 4 as LEARNER with routing, broadcast topology");
    String page = waitForText(steps.toArray(String[]::new));
    assertThat(page).contains("prepare", "addLearner", "awaitLearner", "finish", "join deadline");

    Path shot = Boolean.getBoolean("joinflow.screenshot")
        ? repositoryRoot().resolve("docs/images/join-history.png")
        : dir.resolve("join-history.png");
    Files.createDirectories(shot.getParent());
    Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));
    System.out.println("screenshot of the join's compact history: " + shot.toAbsolutePath().normalize());
  }

  @Test
  void shouldShowEveryStepOnTheTimeline() {
    openJoinHistory();
    clickTab("Timeline");

    waitForText("addLearner • add learner node 4 to group 0", "addLearner • add learner node 4 to group 3",
        "awaitLearner • wait for node 4 to catch up in group 2",
        "finish • persist node 4 as LEARNER with routing, broadcast topology");
  }

  @Test
  void shouldAnswerTheProgressQueryFromTheLiveWorker() {
    openJoinHistory();
    clickTab("Queries");

    click(By.cssSelector("[data-testid='query-select-button']"));
    WebElement progress = visible(By.xpath("//li[@role='option'][.//span[normalize-space()='progress']]"));
    assertThat(progress.getText()).contains("The join's phase (validate, registerPeer, admit, learners, persist,"
        + " broadcast, done, or rejected / compensating / compensated; a join of steps version 3 shows validate while"
        + " it prepares and persist while it finishes) and each group's state");
    progress.click();
    click(By.xpath("//button[normalize-space()='Run Query']"));

    String answer = waitUntil("the progress query's answer", d -> {
      String text = d.findElement(By.cssSelector("[data-testid='query-result']")).getText();
      return text.contains("\"phase\"") ? text : null;
    });
    assertThat(answer).containsPattern("\"nodeId\":\\s*4\\b").containsPattern("\"phase\":\\s*\"done\"")
        .containsPattern("\"outcome\":\\s*\"joined 4 groups as learner\"");
    assertThat(answer.split("\"caught-up\"", -1)).as(answer).hasSize(4 + 1);
  }

  @Test
  void shouldListTheJoinUnderItsJoinPhaseButNotItsPromotion() {
    String join = joined.getWorkflowId();
    String promotion = "promote/" + clusterId + "/" + NODE;
    // Both are in the unfiltered list, so the filtered list's lack of one means something.
    browser.get(ui + "/namespaces/joinflow/workflows");
    waitForTextReloading(join, promotion);

    browser.get(ui + "/namespaces/joinflow/workflows?query="
        + URLEncoder.encode("JoinPhase=\"done\"", StandardCharsets.UTF_8));
    String page = waitForTextReloading(join, "join/" + clusterId + "/2", "join/" + clusterId + "/3");
    assertThat(page).contains("JoinPhase = \"done\"").doesNotContain("promote/");
  }

  private static void openJoinHistory() {
    browser.get(joined.getUiUrl());
    // The event list's header: the history is shown, in whichever view the browser kept.
    waitForText(joined.getWorkflowId(), "COMPLETED", "Event Type", "Details");
  }

  private static void clickTab(String name) {
    click(By.xpath("//a[normalize-space()='" + name + "']"));
  }

  private static void click(By by) {
    waitUntil("a clickable " + by, ExpectedConditions.elementToBeClickable(by)).click();
  }

  private static WebElement visible(By by) {
    return waitUntil("a visible " + by, ExpectedConditions.visibilityOfElementLocated(by));
  }

  /** The text of the Markdown iframe {@code id} once it shows {@code expected}. */
  private static String frameText(String id, String expected) {
    browser.switchTo().frame(visible(By.id(id)));
    try {
      return waitUntil("'" + expected + "' in the iframe " + id, d -> {
        String text = bodyText().strip();
        return text.contains(expected) ? text : null;
      });
    } finally {
      browser.switchTo().defaultContent();
    }
  }

  /** The page's visible text once it shows every one of {@code needles}. */
  private static String waitForText(String... needles) {
    return waitUntil("the page to show " + List.of(needles), d -> {
      String text = bodyText();
      return List.of(needles).stream().allMatch(text::contains) ? text : null;
    });
  }

  /** As {@link #waitForText}, reloading: the list is read from visibility, which lags a little. */
  private static String waitForTextReloading(String... needles) {
    long[] loadedAt = {System.nanoTime()};
    return waitUntil("the page to show " + List.of(needles) + " (reloading)", d -> {
      String text = bodyText();
      if (List.of(needles).stream().allMatch(text::contains)) {
        return text;
      }
      if (System.nanoTime() - loadedAt[0] > TimeUnit.SECONDS.toNanos(3)) {
        d.navigate().refresh();
        loadedAt[0] = System.nanoTime();
      }
      return null;
    });
  }

  private static <T> T waitUntil(String what, Function<WebDriver, T> condition) {
    try {
      return new WebDriverWait(browser, PAGE_WAIT).ignoring(StaleElementReferenceException.class).until(condition);
    } catch (TimeoutException e) {
      throw new AssertionError("waited " + PAGE_WAIT.toSeconds() + " s for " + what + " on " + browser.getCurrentUrl()
          + "; the page showed:\n" + excerpt(bodyText()), e);
    }
  }

  /** The head and the tail of a page's text: the header, and the list or history below it. */
  private static String excerpt(String text) {
    return text.length() <= 4000 ? text
        : text.substring(0, 2000) + "\n[... " + (text.length() - 4000) + " chars ...]\n" + text.substring(text.length() - 2000);
  }

  private static String bodyText() {
    Object text = ((JavascriptExecutor) browser).executeScript("return document.body ? document.body.innerText : ''");
    return text == null ? "" : text.toString();
  }

  private static ChromeDriver openChromium(Path chromium, Path chromedriver, Path profile) {
    CDP_LOG.setLevel(Level.SEVERE);
    ChromeOptions options = new ChromeOptions();
    // Both paths given: Selenium Manager, which would download a browser and a driver, never runs.
    options.setBinary(chromium.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        "--window-size=1400,1800", "--user-data-dir=" + profile);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(chromedriver.toFile())
        .usingAnyFreePort()
        .build();
    return new ChromeDriver(service, options);
  }

  /** The repository's root: the nearest directory above the module that holds docs/ and a pom. */
  private static Path repositoryRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("docs")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException("no docs/ above " + Path.of("").toAbsolutePath());
  }
}
