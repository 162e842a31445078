package dev.outpost.appliance.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.testkit.CliRun;

/** The operator commands against a real appliance over its socket: what they print, as text and as JSON. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminCliTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String OK = AdminHarness.deviceId(1);
    static final String FAILED = AdminHarness.deviceId(2);
    static final String REVOKED = AdminHarness.deviceId(3);
    static final String NEW = AdminHarness.deviceId(4);

    AdminHarness h;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        h = new AdminHarness(dir)
                .seedDevice(1, DeviceState.ENROLLED, null)
                .seedDevice(2, DeviceState.FAILED, "ima-sig: /usr/bin/evil (entry 12): not in the runtime policy\n"
                        + "boot.pcr4: \u001b[2J bootloader digest unknown")
                .seedDevice(3, DeviceState.REVOKED, "stolen from the plant floor")
                .start();
    }

    @AfterAll
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    private CliRun cli(String... args) {
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "--socket";
        full[args.length + 1] = h.socket.toString();
        return CliRun.run(ApplianceCli::commandLine, full);
    }

    private JsonNode json(CliRun r) throws Exception {
        assertThat(r.exitCode()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    @Test
    void deviceShowSaysWhyADeviceFailed() throws Exception {
        CliRun text = cli("device", "show", FAILED);
        assertThat(text.exitCode()).as(text.err()).isZero();
        assertThat(text.out()).contains("state:          failed")
                .contains("failed because:\n  ima-sig: /usr/bin/evil (entry 12): not in the runtime policy")
                .contains("boot.pcr4: \\u001b[2J bootloader digest unknown").doesNotContain("\u001b");
        JsonNode j = json(cli("device", "show", FAILED, "--json"));
        assertThat(j.path("lastReasons").size()).isEqualTo(2);
        assertThat(j.path("lastVerdict").asText()).isEqualTo("fail");
    }

    @Test
    void deviceShowSaysWhyADeviceWasRevoked() throws Exception {
        CliRun text = cli("device", "show", REVOKED);
        assertThat(text.out()).contains("state:          revoked").contains("revokeReason:   stolen from the plant floor");
        assertThat(json(cli("device", "show", REVOKED, "--json")).path("revokeReason").asText())
                .isEqualTo("stolen from the plant floor");
        CliRun again = cli("device", "revoke", REVOKED);
        assertThat(again.exitCode()).isEqualTo(2);
        assertThat(again.err()).startsWith("error: appliance says (409): device " + REVOKED + " is already revoked");
    }

    @Test
    void auditListsTheTrailAndFiltersByDevice() throws Exception {
        assertThat(json(cli("device", "allow", NEW, "--note", "bench unit 7", "--json")).path("allowed").asText())
                .isEqualTo(NEW);
        assertThat(json(cli("device", "label", OK, "line-1", "--json")).path("label").asText()).isEqualTo("line-1");
        // A label is a node selector: registration entries can name it as a parent.
        assertThat(json(cli("device", "show", OK, "--json")).path("selectors").toString()).contains("outpost:label:line-1");
        JsonNode trail = json(cli("audit", "--device", NEW, "--json"));
        assertThat(trail.size()).isEqualTo(1);
        assertThat(trail.get(0).path("action").asText()).isEqualTo("allow");
        assertThat(trail.get(0).path("deviceId").asText()).isEqualTo(NEW);
        CliRun text = cli("audit", "--limit", "5");
        assertThat(text.exitCode()).as(text.err()).isZero();
        assertThat(text.out()).startsWith("TIME").contains(NEW).contains("allow").contains("added to the allow-list");
        CliRun badLimit = cli("audit", "--limit", "0");
        assertThat(badLimit.exitCode()).isEqualTo(2);
        assertThat(badLimit.err()).isEqualTo("error: --limit must be 1..1000, got 0\n");
        CliRun badDevice = cli("audit", "--device", "plant-7");
        assertThat(badDevice.exitCode()).isEqualTo(2);
        assertThat(badDevice.err()).contains("appliance says (400): device must be a device id");
    }

    @Test
    void dataCommandsPrintJson() throws Exception {
        JsonNode ca = json(cli("ca", "show", "--json"));
        assertThat(ca.path("trustDomain").asText()).isEqualTo("outpost.test");
        assertThat(ca.path("pem").asText()).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(json(cli("policy", "list", "--json")).isArray()).isTrue();
        assertThat(json(cli("device", "list", "--json")).size()).isGreaterThanOrEqualTo(3);
        CliRun unknownPolicy = cli("policy", "assign", "nosuch", "--label", "line-1");
        assertThat(unknownPolicy.exitCode()).isEqualTo(2);
        assertThat(unknownPolicy.err()).contains("appliance says (404): no policy nosuch");
        CliRun badLabel = cli("device", "label", OK, "line 1");
        assertThat(badLabel.err()).contains("appliance says (400): label must be 1-64 letters");
    }
}
