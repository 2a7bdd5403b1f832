package io.joinflow.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.joinflow.node.raft.ClusterIds;
import io.joinflow.proto.HostPort;
import org.junit.jupiter.api.Test;

class IdsAndAddressesTest {
  @Test
  void shouldParseHostsPortsAndBracketedIpv6() {
    assertThat(HostPort.parse("127.0.0.1:7100")).isEqualTo(new HostPort("127.0.0.1", 7100));
    assertThat(HostPort.parse("[::1]:7100")).isEqualTo(new HostPort("::1", 7100));
    assertThat(HostPort.parse("[::1]:7100").toString()).isEqualTo("[::1]:7100");
    assertThat(HostPort.parse("db-1.example:80").withPort(81).toString()).isEqualTo("db-1.example:81");
  }

  @Test
  void shouldExplainWhatIsWrongWithAnAddress() {
    assertThatThrownBy(() -> HostPort.parse("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> HostPort.parse("host")).hasMessageContaining("not host:port");
    assertThatThrownBy(() -> HostPort.parse("host:")).hasMessageContaining("not host:port");
    assertThatThrownBy(() -> HostPort.parse(":80")).hasMessageContaining("not host:port");
    assertThatThrownBy(() -> HostPort.parse("host:http")).hasMessageContaining("non-numeric port");
    assertThatThrownBy(() -> HostPort.parse("host:70000")).hasMessageContaining("use 1-65535");
    assertThatThrownBy(() -> HostPort.parse("::1:80")).hasMessageContaining("brackets");
    // Control characters never reach logs, summaries or the Web UI; the message shows them escaped.
    assertThatThrownBy(() -> HostPort.parse("evil\u001b[31m:80")).hasMessageContaining("malformed host")
        .hasMessageContaining("evil\\u001b[31m:80");
    assertThatThrownBy(() -> HostPort.parse("a\nb:80")).hasMessageContaining("malformed host");
    assertThatThrownBy(() -> HostPort.parse("x".repeat(254) + ":80")).hasMessageContaining("at most 253");
    assertThat(HostPort.parse("[fe80::1%eth0]:80").host()).isEqualTo("fe80::1%eth0");
  }

  @Test
  void shouldDeriveStableIds() {
    var gid = ClusterIds.groupId(0x1234L, 7);
    assertThat(ClusterIds.groupNumber(gid)).isEqualTo(7);
    assertThat(ClusterIds.clusterIdOf(gid)).isEqualTo(0x1234L);
    assertThat(ClusterIds.nodeId(ClusterIds.peerId(-1L))).isEqualTo(-1L);
    assertThat(ClusterIds.groupOfVshard(0, 8)).isEqualTo(1);
    assertThat(ClusterIds.groupOfVshard(1023, 8)).isEqualTo(8);
    // FNV-1a of "a" is 0xe40c292c; the vShard must not depend on the JVM.
    assertThat(ClusterIds.vshardOf("a".getBytes())).isEqualTo(Integer.remainderUnsigned(0xe40c292c, 1024));
  }
}
