package io.joinflow.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JoinTokenTest {
  @Test
  void shouldGenerateTokensOfTheKubeadmForm() {
    SecureRandom random = new SecureRandom();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      JoinToken t = JoinToken.generate(random);
      assertThat(t.reveal()).matches("[a-z0-9]{6}\\.[a-z0-9]{16}");
      assertThat(JoinToken.parse(t.reveal()).id()).isEqualTo(t.id());
      seen.add(t.reveal());
    }
    assertThat(seen).hasSize(200);
  }

  @Test
  void shouldRefuseMalformedTokensWithoutQuotingThem() {
    for (String bad : new String[] {"", "abc123", "abc123.", "ABC123.0123456789abcdef", "abc12.0123456789abcdef",
        "abc123.0123456789abcde", "abc123.0123456789abcdefg", "abc123-0123456789abcdef", "abc123.0123456789abcdeF"}) {
      assertThatThrownBy(() -> JoinToken.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessage(JoinToken.FORMAT);
    }
    assertThatThrownBy(() -> JoinToken.parse(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void shouldMatchOnlyTheHashOfItsOwnSecretAndNeverPrintIt() {
    JoinToken t = JoinToken.parse("abc123.0123456789abcdef");
    JoinToken other = JoinToken.parse("abc123.0123456789abcdee");
    assertThat(t.secretHash()).hasSize(32);
    assertThat(t.matches(t.secretHash())).isTrue();
    assertThat(t.matches(other.secretHash())).isFalse();
    assertThat(t.matches(new byte[0])).isFalse();
    assertThat(t.toString()).isEqualTo("abc123.<secret>").doesNotContain("0123456789abcdef");
  }

  @Test
  void shouldTellTokenIdsApart() {
    assertThat(JoinToken.isId("abc123")).isTrue();
    assertThat(JoinToken.isId("abc12")).isFalse();
    assertThat(JoinToken.isId("Abc123")).isFalse();
    assertThat(JoinToken.isId(null)).isFalse();
  }
}
