package io.joinflow.worker;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What joinflow needs of a Temporal server's version: the workflow-id conflict policy
 * USE_EXISTING (a repeated Join attaches to the running join) needs 1.24; workflow and activity
 * summaries and current details (what the Web UI shows of a join) need 1.25.
 */
record TemporalServerVersion(int major, int minor, int patch, String text) {
  static final TemporalServerVersion REQUIRED = new TemporalServerVersion(1, 24, 0, "1.24.0");
  static final TemporalServerVersion USER_METADATA = new TemporalServerVersion(1, 25, 0, "1.25.0");
  private static final Pattern VERSION = Pattern.compile("v?(\\d+)\\.(\\d+)(?:\\.(\\d+))?.*");

  /** The version a server reports, or empty when it reports none or one that is not x.y[.z] (e.g. Temporal Cloud). */
  static Optional<TemporalServerVersion> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    Matcher m = VERSION.matcher(text.trim());
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(new TemporalServerVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
        m.group(3) == null ? 0 : Integer.parseInt(m.group(3)), text.trim()));
  }

  boolean atLeast(TemporalServerVersion other) {
    if (major != other.major) {
      return major > other.major;
    }
    if (minor != other.minor) {
      return minor > other.minor;
    }
    return patch >= other.patch;
  }

  /** Why joinflow cannot run on this server, or empty. */
  Optional<String> refusal(String target) {
    if (atLeast(REQUIRED)) {
      return Optional.empty();
    }
    return Optional.of("the Temporal server at " + target + " is version " + text + "; joinflow needs "
        + REQUIRED.text + " or newer (a repeated Join attaches to the running join with the workflow-id"
        + " conflict policy USE_EXISTING); upgrade the server");
  }

  /** What works less well on this server, or empty. */
  Optional<String> warning(String target) {
    if (atLeast(USER_METADATA)) {
      return Optional.empty();
    }
    return Optional.of("the Temporal server at " + target + " is version " + text + ": before " + USER_METADATA.text
        + " it drops workflow and activity summaries and current details, so the Web UI shows joins without them");
  }
}
