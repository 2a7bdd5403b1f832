package io.joinflow.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.joinflow.worker.TemporalConnection;

/** The Temporal fields every {@code --json} output of a command that runs Temporal carries. */
final class TemporalJson {
  private TemporalJson() {}

  static void put(ObjectNode o, TemporalConnection t) {
    o.put("temporal_mode", t.mode().label());
    o.put("temporal_address", t.target());
    o.put("temporal_namespace", t.namespace());
    if (t.uiUrl().isPresent()) {
      o.put("ui_url", t.uiUrl().get());
    } else {
      o.putNull("ui_url");
    }
  }
}
