package io.joinflow.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TemporalEndpointTest {
  private final TemporalEndpoint cli = new TemporalEndpoint("cli", "127.0.0.1:7100", "joinflow",
      "http://127.0.0.1:7102", true);

  @Test
  void shouldLinkARunsHistoryPageWithTheWorkflowIdEncoded() {
    assertThat(cli.workflowUrl("join/123/4", "01a2-b3")).hasValue(
        "http://127.0.0.1:7102/namespaces/joinflow/workflows/join%2F123%2F4/01a2-b3/history");
    assertThat(new TemporalEndpoint("env", "t:7233", "my ns", "https://ui.example/", true)
        .workflowUrl("join/1/2", "")).hasValue("https://ui.example/namespaces/my%20ns/workflows/join%2F1%2F2");
  }

  @Test
  void shouldLinkNothingWithoutAWebUi() {
    assertThat(TemporalEndpoint.unknown("default").workflowUrl("join/1/2", "r")).isEmpty();
    assertThat(TemporalEndpoint.unknown("default").listUrl("WorkflowType='JoinWorkflow'")).isEmpty();
    assertThat(TemporalEndpoint.unknown("default").toProto().getUiUrl()).isEmpty();
  }

  @Test
  void shouldLinkTheListPageOfAQuery() {
    assertThat(cli.listUrl("JoinPhase='learners'")).hasValue(
        "http://127.0.0.1:7102/namespaces/joinflow/workflows?query=JoinPhase%3D%27learners%27");
  }
}
