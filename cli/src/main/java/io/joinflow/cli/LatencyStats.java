package io.joinflow.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Summary of latency samples in milliseconds, in the order they were taken.
 *
 * <p>The median of an even number of samples is the mean of the two middle ones. The p95 is
 * the nearest-rank percentile: the smallest sample that at least 95% of the samples do not
 * exceed, so it is always a measured value (with five samples it is the maximum). A summary of
 * no samples has {@code count} 0 and NaN everywhere else.
 */
record LatencyStats(List<Double> samples, int count, double median, double p95, double max) {

  static final LatencyStats EMPTY = new LatencyStats(List.of(), 0, Double.NaN, Double.NaN, Double.NaN);

  LatencyStats {
    samples = List.copyOf(samples);
  }

  static LatencyStats of(List<Double> samplesMs) {
    if (samplesMs.isEmpty()) {
      return EMPTY;
    }
    List<Double> sorted = new ArrayList<>(samplesMs);
    Collections.sort(sorted);
    int n = sorted.size();
    double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    return new LatencyStats(samplesMs, n, median, percentile(sorted, 95), sorted.get(n - 1));
  }

  /** Nearest-rank percentile of an ascending, non-empty list. */
  static double percentile(List<Double> sorted, int percent) {
    int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
    return sorted.get(Math.max(1, rank) - 1);
  }

  boolean measured() {
    return count > 0;
  }

  /** "412 / 450 / 480", or "-" without samples. */
  String render() {
    if (!measured()) {
      return "-";
    }
    return String.format("%.0f / %.0f / %.0f", median, p95, max);
  }
}
