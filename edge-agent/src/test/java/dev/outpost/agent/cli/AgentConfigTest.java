package dev.outpost.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;

class AgentConfigTest {

    @Test
    void shippedConfigLoads() throws Exception {
        Path shipped = Path.of(System.getProperty("outpost.root"), "packaging/etc/outpost/agent.yaml");
        AgentConfig c = AgentConfig.load(shipped);
        assertThat(c.appliance().port()).isEqualTo(8883);
        assertThat(c.tpm()).isEqualTo("device:/dev/tpmrm0");
        assertThat(c.renewFraction()).isEqualTo(0.5);
        assertThat(c.workloadApi().on()).isFalse();
        assertThat(c.workloadApi().socket()).isEqualTo(AgentConfig.WorkloadApi.DEFAULT_SOCKET);
        assertThat(c.workloadApi().maxBinaryBytes()).isEqualTo(AgentConfig.WorkloadApi.DEFAULT_MAX_BINARY);
    }

    @Test
    void workloadApiIsOffByDefaultAndItsSocketIsChecked(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.yaml");
        Files.writeString(f, "appliance: {host: h, port: 8883}\ntrust: {bundle: /x}\n");
        AgentConfig c = AgentConfig.load(f);
        assertThat(c.workloadApi().on()).isFalse();
        Files.writeString(f, "appliance: {host: h, port: 8883}\ntrust: {bundle: /x}\nworkloadApi: {enabled: true}\n");
        assertThat(AgentConfig.load(f).workloadApi().socket()).isEqualTo(Path.of("/run/outpost-agent/workload.sock"));
        Files.writeString(f, "appliance: {host: h, port: 8883}\ntrust: {bundle: /x}\n"
                + "workloadApi: {enabled: true, socket: run/w.sock, maxBinaryBytes: 0}\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("workloadApi.socket: an absolute path")
                .hasMessageContaining("workloadApi.maxBinaryBytes: must be positive");
        Files.writeString(f, "appliance: {host: h, port: 8883}\ntrust: {bundle: /x}\n"
                + "workloadApi: {enabled: true, socket: /" + "x".repeat(120) + "}\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("at most 107 characters");
    }

    @Test
    void mistakesAreNamed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.yaml");
        Files.writeString(f, "appliance: {host: h, port: 0}\ntrust: {}\nrenewFraction: 0.95\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("appliance.port: must be 1..65535")
                .hasMessageContaining("blind trust is not offered").hasMessageContaining("renewFraction");
        Files.writeString(f, "appliance: {host: h, port: 1}\ntrust: {bundle: /x}\ncolour: blue\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("unknown setting 'colour'");
        Files.writeString(f, "appliance: {host: h, port: 1}\ntrust: {caFingerprintSha256: abc}\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("64 hex digits");
    }

    @Test
    void brokerModeNeedsTheEnrollmentListenerAndOnlyItUsesOne(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.yaml");
        Files.writeString(f, "appliance: {host: h, port: 8883, mode: broker, enrollPort: 8884}\ntrust: {bundle: /x}\n");
        assertThat(AgentConfig.load(f).appliance().viaBroker()).isTrue();
        Files.writeString(f, "appliance: {host: h, port: 8883}\ntrust: {bundle: /x}\n");
        assertThat(AgentConfig.load(f).appliance().viaBroker()).isFalse();
        Files.writeString(f, "appliance: {host: h, port: 8883, mode: broker}\ntrust: {bundle: /x}\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("appliance.enrollPort: required with mode broker");
        // A config from before broker mode had its own client ids: it must not silently keep failing to connect.
        Files.writeString(f, "appliance: {host: h, port: 8883, enrollPort: 8884}\ntrust: {bundle: /x}\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("add appliance.mode: broker");
        Files.writeString(f, "appliance: {host: h, port: 8883, mode: Broker, enrollPort: 8884}\ntrust: {bundle: /x}\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("appliance.mode: endpoint or broker");
    }
}
