package io.joinflow.worker;

import io.joinflow.workflows.JoinSearchAttributes;
import io.temporal.api.enums.v1.IndexedValueType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The custom search attributes joinflow's workflows set, with the type each must have on the
 * namespace, and the check of a namespace's registered attributes against them.
 */
final class JoinSearchAttributeTypes {
  /** One attribute type, as the API and the Temporal CLI name it. */
  enum Type {
    INT(IndexedValueType.INDEXED_VALUE_TYPE_INT, "Int"),
    KEYWORD(IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, "Keyword");

    final IndexedValueType api;
    private final String cli;

    Type(IndexedValueType api, String cli) {
      this.api = api;
      this.cli = cli;
    }

    String cliName() {
      return cli;
    }
  }

  static final Map<String, Type> REQUIRED;

  static {
    Map<String, Type> m = new LinkedHashMap<>();
    m.put(JoinSearchAttributes.NODE_ID.getName(), Type.INT);
    m.put(JoinSearchAttributes.PHASE.getName(), Type.KEYWORD);
    REQUIRED = Map.copyOf(m);
  }

  private JoinSearchAttributeTypes() {}

  /**
   * What is wrong with a namespace's custom attributes, one sentence per attribute, with the
   * command that fixes it; empty when every required attribute exists with its type.
   */
  static List<String> problems(Map<String, IndexedValueType> registered, String namespace) {
    List<String> out = new ArrayList<>();
    for (String name : List.of(JoinSearchAttributes.NODE_ID.getName(), JoinSearchAttributes.PHASE.getName())) {
      Type want = REQUIRED.get(name);
      IndexedValueType have = registered.get(name);
      String fix = "temporal operator search-attribute create --namespace " + namespace + " --name " + name
          + " --type " + want.cliName();
      if (have == null) {
        out.add("search attribute " + name + " is not registered on namespace " + namespace + "; run: " + fix
            + " (on Temporal Cloud: tcld namespace search-attributes add -n " + namespace + " --sa '" + name + "="
            + want.cliName() + "')");
      } else if (have != want.api) {
        out.add("search attribute " + name + " is registered as " + have.name().replace("INDEXED_VALUE_TYPE_", "")
            + " on namespace " + namespace + " but joinflow sets it as " + want.cliName()
            + "; a type cannot be changed: use another namespace (TEMPORAL_NAMESPACE), or remove it with"
            + " temporal operator search-attribute remove --namespace " + namespace + " --name " + name
            + " and run: " + fix);
      }
    }
    return out;
  }
}
