package io.joinflow.gateway;

import io.joinflow.proto.v1.TemporalInfo;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The Temporal a gateway uses, as far as its answers tell: which kind, where, which namespace,
 * the Web UI's root (for links to a join's page), and whether it can list workflows.
 *
 * @param mode cli, embedded or env
 * @param uiUrl the Web UI's root ({@code http://127.0.0.1:8233}), null when there is none
 * @param listsWorkflows false for the embedded test server, which cannot list (joins are then
 *     listed from group 0's records)
 */
public record TemporalEndpoint(String mode, String address, String namespace, String uiUrl,
                               boolean listsWorkflows) {

  /** What a gateway knows when it is told nothing: no UI, no listing (the embedded server's limits). */
  public static TemporalEndpoint unknown(String namespace) {
    return new TemporalEndpoint("embedded", "in-process", namespace, null, false);
  }

  /**
   * The page of one run in the Web UI: {@code <ui>/namespaces/<ns>/workflows/<id>/<run>/history},
   * the workflow id URL-encoded (join ids contain '/'). Empty without a UI.
   */
  public Optional<String> workflowUrl(String workflowId, String runId) {
    if (uiUrl == null || uiUrl.isEmpty() || workflowId == null || workflowId.isEmpty()) {
      return Optional.empty();
    }
    String base = uiUrl.endsWith("/") ? uiUrl.substring(0, uiUrl.length() - 1) : uiUrl;
    String page = base + "/namespaces/" + encode(namespace) + "/workflows/" + encode(workflowId);
    return Optional.of(runId == null || runId.isEmpty() ? page : page + "/" + encode(runId) + "/history");
  }

  /** The list page filtered by a visibility query, e.g. {@code WorkflowType='JoinWorkflow'}. */
  public Optional<String> listUrl(String query) {
    if (uiUrl == null || uiUrl.isEmpty()) {
      return Optional.empty();
    }
    String base = uiUrl.endsWith("/") ? uiUrl.substring(0, uiUrl.length() - 1) : uiUrl;
    return Optional.of(base + "/namespaces/" + encode(namespace) + "/workflows?query=" + encode(query));
  }

  public TemporalInfo toProto() {
    return TemporalInfo.newBuilder().setMode(mode).setAddress(address).setNamespace(namespace)
        .setUiUrl(uiUrl == null ? "" : uiUrl).build();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
