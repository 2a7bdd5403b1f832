package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LatencyStatsTest {

  private static List<Double> upTo(int n) {
    return IntStream.rangeClosed(1, n).mapToObj(i -> (double) i).toList();
  }

  @Test
  void shouldTakeTheMiddleSampleAsMedianOfAnOddCount() {
    LatencyStats s = LatencyStats.of(List.of(30.0, 10.0, 50.0, 20.0, 40.0));

    assertThat(s.count()).isEqualTo(5);
    assertThat(s.median()).isEqualTo(30.0);
    assertThat(s.max()).isEqualTo(50.0);
  }

  @Test
  void shouldAverageTheTwoMiddleSamplesOfAnEvenCount() {
    LatencyStats s = LatencyStats.of(List.of(40.0, 10.0, 20.0, 30.0));

    assertThat(s.median()).isEqualTo(25.0);
  }

  @Test
  void shouldTakeTheNearestRankAsP95() {
    // given 1..20: rank ceil(0.95 * 20) = 19
    List<Double> twenty = upTo(20);

    assertThat(LatencyStats.of(twenty).p95()).isEqualTo(19.0);
    // five samples: rank ceil(4.75) = 5, the maximum
    assertThat(LatencyStats.of(List.of(5.0, 1.0, 4.0, 2.0, 3.0)).p95()).isEqualTo(5.0);
    // a hundred: rank 95
    assertThat(LatencyStats.of(upTo(100)).p95()).isEqualTo(95.0);
  }

  @Test
  void shouldDescribeOneSampleByItself() {
    LatencyStats s = LatencyStats.of(List.of(7.5));

    assertThat(s.median()).isEqualTo(7.5);
    assertThat(s.p95()).isEqualTo(7.5);
    assertThat(s.max()).isEqualTo(7.5);
    assertThat(s.render()).isEqualTo("8 / 8 / 8");
  }

  @Test
  void shouldKeepSamplesInTheOrderTheyWereTaken() {
    assertThat(LatencyStats.of(List.of(3.0, 1.0, 2.0)).samples()).containsExactly(3.0, 1.0, 2.0);
  }

  @Test
  void shouldReportNothingMeasuredWithoutSamples() {
    LatencyStats s = LatencyStats.of(List.of());

    assertThat(s.measured()).isFalse();
    assertThat(s.median()).isNaN();
    assertThat(s.p95()).isNaN();
    assertThat(s.render()).isEqualTo("-");
  }
}
