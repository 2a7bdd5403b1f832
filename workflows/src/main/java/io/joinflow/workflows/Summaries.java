package io.joinflow.workflows;

import java.nio.charset.StandardCharsets;

/**
 * Text for Temporal's user metadata. A summary (of a workflow, an activity or a timer) is what
 * the Web UI shows in lists and on the history page, and the server refuses one above 200 bytes:
 * summaries are cut to fit, and whatever does not fit belongs in the workflow's static details.
 * Pure functions, safe in workflow code.
 */
public final class Summaries {
  /** The server's limit on a summary, in UTF-8 bytes. */
  public static final int MAX_SUMMARY_BYTES = 200;
  private static final String ELLIPSIS = "...";

  private Summaries() {}

  /** {@code text} if it fits in {@link #MAX_SUMMARY_BYTES}, else its longest prefix that does, ending in "...". */
  public static String fit(String text) {
    if (text.getBytes(StandardCharsets.UTF_8).length <= MAX_SUMMARY_BYTES) {
      return text;
    }
    int budget = MAX_SUMMARY_BYTES - ELLIPSIS.length();
    StringBuilder out = new StringBuilder();
    int used = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      int bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (used + bytes > budget) {
        break;
      }
      out.appendCodePoint(cp);
      used += bytes;
      i += Character.charCount(cp);
    }
    return out.append(ELLIPSIS).toString();
  }
}
