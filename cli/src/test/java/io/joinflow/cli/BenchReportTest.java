package io.joinflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchReportTest {
  private static final BenchReport.Plan PLAN = new BenchReport.Plan(List.of(8, 64), List.of(1, 16), 8, 1, 0, 0, 16, true);
  private static final BenchReport.Machine MACHINE = new BenchReport.Machine(2, "Linux amd64", "Java 17", 1024);

  private static BenchReport.PointResult point(String series, int groups, int concurrent, double workflow,
                                               double direct) {
    Map<BenchMode, BenchReport.ModeResult> modes = new EnumMap<>(BenchMode.class);
    modes.put(BenchMode.WORKFLOW, mode(workflow));
    if (!Double.isNaN(direct)) {
      modes.put(BenchMode.DIRECT, mode(direct));
      modes.put(BenchMode.SEQUENTIAL, mode(direct * 3));
    }
    BenchPoint p = new BenchPoint(series, groups, concurrent);
    return new BenchReport.PointResult(p, p.raft(), modes, List.of(), null, 0.5, Double.NaN);
  }

  private static BenchReport.ModeResult mode(double ms) {
    return new BenchReport.ModeResult(LatencyStats.of(List.of(ms)), LatencyStats.of(List.of(ms)), LatencyStats.EMPTY,
        List.of(),
        Map.of(), LatencyStats.EMPTY, Map.of(BenchJoins.ADD_LEARNER, LatencyStats.of(List.of(ms / 10)),
            BenchJoins.AWAIT_CAUGHT_UP, LatencyStats.of(List.of(ms / 5))), 0.5, Double.NaN, Map.of(), LatencyStats.EMPTY);
  }

  @Test
  void shouldJudgeEveryTargetFromTheMedians() {
    // given: 8 groups 1.2x direct, 64 groups 2x direct and 5x the 8-group join, 16 joins 2.5x one
    List<BenchReport.PointResult> points = List.of(
        point(BenchPoint.GROUPS, 8, 1, 600, 500),
        point(BenchPoint.GROUPS, 64, 1, 3000, 1500),
        point(BenchPoint.CONCURRENT, 8, 1, 400, 350),
        point(BenchPoint.CONCURRENT, 8, 16, 1000, 800));

    List<BenchReport.Target> targets = BenchReport.targets(points);

    assertThat(targets).extracting(BenchReport.Target::status)
        .containsExactly("met", "not met", "not met", "met");
    assertThat(targets.get(0).value()).isEqualTo(1.2);
    assertThat(targets.get(2).value()).isEqualTo(5.0);
    // the concurrency series' own single join is the reference, not the groups series'
    assertThat(targets.get(3).value()).isEqualTo(2.5);
    assertThat(targets.get(3).detail()).contains("16 at once 1000 ms / one 400 ms = 2.50x");
  }

  @Test
  void shouldFallBackToTheGroupsSeriesForTheSingleJoinReference() {
    List<BenchReport.PointResult> points = List.of(
        point(BenchPoint.GROUPS, 8, 1, 500, 400),
        point(BenchPoint.CONCURRENT, 8, 16, 1000, 800));

    assertThat(BenchReport.targets(points).get(3).value()).isEqualTo(2.0);
  }

  @Test
  void shouldCallTargetsWithoutTheirPointsNotMeasured() {
    List<BenchReport.PointResult> points = List.of(point(BenchPoint.GROUPS, 8, 1, 500, Double.NaN));

    assertThat(BenchReport.targets(points)).extracting(BenchReport.Target::status).containsOnly("not measured");
  }

  @Test
  void shouldWriteRatiosAndNullForWhatWasNotMeasured() {
    List<BenchReport.PointResult> points = List.of(
        point(BenchPoint.GROUPS, 8, 1, 600, 500),
        point(BenchPoint.GROUPS, 64, 1, 3000, Double.NaN));
    BenchReport report = BenchReport.of(MACHINE, PLAN, points);

    JsonNode json = report.json(new ObjectMapper());

    assertThat(json.get("all_joins_succeeded").asBoolean()).isTrue();
    assertThat(json.at("/points/0/ratios/workflow_direct").asDouble()).isEqualTo(1.2);
    assertThat(json.at("/points/0/ratios/sequential_direct").asDouble()).isEqualTo(3.0);
    assertThat(json.at("/points/1/ratios/workflow_direct").isNull()).isTrue();
    assertThat(json.at("/points/1/election_timeout_ms/0").asLong()).isEqualTo(1000);
    assertThat(json.at("/points/0/modes/workflow/batch_ms/median").asDouble()).isEqualTo(600);
    assertThat(json.at("/targets/0/status").asText()).isEqualTo("met");
    assertThat(json.at("/points/0/load_average_before").asDouble()).isEqualTo(0.5);
    assertThat(json.at("/points/0/modes/direct/per_group_call_ms/addLearner/median").asDouble()).isEqualTo(50);
    assertThat(json.at("/points/0/modes/direct/cpu_busy").asDouble()).isEqualTo(0.5);
    assertThat(json.at("/points/0/load_average_after").isNull()).isTrue();
    assertThat(json.at("/targets/1/value").isNull()).isTrue();
  }

  @Test
  void shouldRenderOneRowPerPointAndTheTargets() {
    List<BenchReport.PointResult> points = new ArrayList<>(List.of(
        point(BenchPoint.GROUPS, 8, 1, 600, 500),
        point(BenchPoint.CONCURRENT, 8, 16, 1000, 800)));
    BenchPoint broken = new BenchPoint(BenchPoint.GROUPS, 64, 1);
    points.add(new BenchReport.PointResult(broken, broken.raft(), Map.of(), List.of(), "cluster did not start",
        Double.NaN, Double.NaN));

    String table = BenchReport.of(MACHINE, PLAN, points).table();

    assertThat(table).contains("groups=8           600 / 600 / 600")
        .contains("1.20x")
        .contains("concurrent=16 @8g")
        .contains("groups=64          failed: cluster did not start")
        .contains("[met]          single join at 8 groups within 1.5x direct")
        .contains("[not measured] join into 64 groups within 4x the join into 8")
        .contains("groups=8           60 / 120 50%          50 / 100 50%");
  }

  @Test
  void shouldTakeEachStepsMedianOverTheTimelines() {
    JoinTimeline a = new JoinTimeline(List.of(
        new JoinTimeline.Step("validate", "", 0, 10, 1, "completed"),
        new JoinTimeline.Step("addLearner", "", 10, 100, 1, "completed")), 110);
    JoinTimeline b = new JoinTimeline(List.of(
        new JoinTimeline.Step("validate", "", 0, 30, 1, "completed"),
        new JoinTimeline.Step("addLearner", "", 30, 200, 1, "completed")), 230);
    JoinTimeline c = new JoinTimeline(List.of(
        new JoinTimeline.Step("validate", "", 0, 20, 1, "completed"),
        new JoinTimeline.Step("addLearner", "", 20, 300, 1, "completed")), 320);

    assertThat(BenchReport.medianSteps(List.of(a, b, c)))
        .containsExactly(Map.entry("validate", 20.0), Map.entry("addLearner", 200.0));
  }
}
