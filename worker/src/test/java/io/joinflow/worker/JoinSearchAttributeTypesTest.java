package io.joinflow.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.enums.v1.IndexedValueType;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JoinSearchAttributeTypesTest {
  @Test
  void shouldAcceptBothAttributesWithTheirTypes() {
    assertThat(JoinSearchAttributeTypes.problems(Map.of(
        "JoinNodeId", IndexedValueType.INDEXED_VALUE_TYPE_INT,
        "JoinPhase", IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        "Other", IndexedValueType.INDEXED_VALUE_TYPE_TEXT), "ns")).isEmpty();
  }

  @Test
  void shouldNameTheCommandForAMissingAttribute() {
    assertThat(JoinSearchAttributeTypes.problems(Map.of(
        "JoinNodeId", IndexedValueType.INDEXED_VALUE_TYPE_INT), "prod")).singleElement().asString()
        .contains("JoinPhase is not registered on namespace prod")
        .contains("temporal operator search-attribute create --namespace prod --name JoinPhase --type Keyword")
        .contains("tcld namespace search-attributes add -n prod --sa 'JoinPhase=Keyword'");
  }

  @Test
  void shouldRefuseAnAttributeOfAnotherType() {
    assertThat(JoinSearchAttributeTypes.problems(Map.of(
        "JoinNodeId", IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        "JoinPhase", IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD), "ns")).singleElement().asString()
        .contains("JoinNodeId is registered as KEYWORD on namespace ns but joinflow sets it as Int");
  }
}
