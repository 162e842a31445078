package dev.outpost.ima.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.outpost.ima.policy.PolicyException;

/** Hostile or careless policy documents are refused whole, with the JSON path and the reason. */
class BootPolicyJsonTest {
    private static final String HEAD = "{\"kind\":\"outpost-measured-boot-policy\",\"version\":1,\"secureBoot\":\"enabled\"";
    private static final String H32 = "ab".repeat(32);

    private static BootPolicy read(String json) {
        return new BootPolicyJson().read(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void minimalPolicyChecksOnlySecureBoot() {
        BootPolicy p = read(HEAD + "}");
        assertThat(p.secureBoot()).isEqualTo(BootPolicy.SecureBoot.ENABLED);
        assertThat(p.db()).isNull();
        assertThat(p.applications()).isNull();
        assertThat(p.kernelCmdlines()).isNull();
        assertThat(p.pcrs()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[]|$: must be an object, not array",
        "{}|$: missing member \"kind\"",
        "{\"kind\":\"runtime\",\"version\":1,\"secureBoot\":\"enabled\"}|$.kind: must be",
        "{\"kind\":\"outpost-measured-boot-policy\",\"version\":2,\"secureBoot\":\"enabled\"}|$.version: must be 1",
        "{\"kind\":\"outpost-measured-boot-policy\",\"version\":\"1\",\"secureBoot\":\"enabled\"}|$.version: must be 1",
        "{\"kind\":\"outpost-measured-boot-policy\",\"version\":1,\"secureBoot\":true}|$.secureBoot: must be a string, not boolean",
        "{\"kind\":\"outpost-measured-boot-policy\",\"version\":1,\"secureBoot\":\"on\"}|$.secureBoot: must be \"enabled\" or \"any\"",
        "HEAD,\"dbs\":null}|$: unknown member \"dbs\"",
        "HEAD,\"db\":[]}|$.db: must be an object, not array",
        "HEAD,\"db\":{\"mode\":\"subset\"}}|$.db: missing member \"entries\"",
        "HEAD,\"db\":{\"mode\":\"some\",\"entries\":[]}}|$.db.mode: must be",
        "HEAD,\"db\":{\"mode\":\"subset\",\"entries\":[{}]}}|$.db.entries[0]: needs exactly one of",
        "HEAD,\"db\":{\"mode\":\"subset\",\"entries\":[{\"certSha256\":\"AB\"}]}}|$.db.entries[0].certSha256: must be 64 lowercase hex digits",
        "HEAD,\"db\":{\"mode\":\"subset\",\"entries\":[{\"certSha256\":\"H32\",\"hashSha256\":\"H32\"}]}}|$.db.entries[0]: needs exactly one of",
        "HEAD,\"dbx\":{\"mode\":\"superset\",\"entries\":[{\"hashSha256\":\"H32\",\"owner\":\"x\"}]}}|$.dbx.entries[0].owner: must be a lowercase GUID",
        "HEAD,\"kek\":{\"mode\":\"exact\",\"entries\":[{\"certSubject\":\"CN=x\"}]}}|$.kek.entries[0]: missing member \"certSerial\"",
        "HEAD,\"kek\":{\"mode\":\"exact\",\"entries\":[{\"certSubject\":\"CN=x\",\"certSerial\":\"-1\"}]}}|$.kek.entries[0].certSerial: must be 1 to 64",
        "HEAD,\"applications\":{}}|$.applications: must be an array, not object",
        "HEAD,\"applications\":[{\"digests\":{}}]}|$.applications[0].digests: needs at least one bank",
        "HEAD,\"applications\":[{\"digests\":{\"md5\":\"H32\"}}]}|$.applications[0].digests: unknown bank \"md5\"",
        "HEAD,\"applications\":[{\"digests\":{\"sha1\":\"H32\"}}]}|$.applications[0].digests.sha1: must be 40 lowercase hex digits",
        "HEAD,\"applications\":[{\"digests\":{\"sha256\":7}}]}|$.applications[0].digests.sha256: must be a string, not number",
        "HEAD,\"kernelCmdlines\":[\"root=(\"]}|$.kernelCmdlines[0]: invalid regex",
        "HEAD,\"kernelCmdlines\":[null]}|$.kernelCmdlines[0]: must be a string, not null",
        "HEAD,\"pcrs\":{\"sha256\":{\"24\":\"H32\"}}}|$.pcrs.sha256: \"24\" is not a PCR index",
        "HEAD,\"pcrs\":{\"sha256\":{\"07\":\"H32\"}}}|$.pcrs.sha256: \"07\" is not a PCR index",
        "HEAD,\"pcrs\":[]}|$.pcrs: must be an object",
        "HEAD,\"secureBoot\":\"any\"}|Duplicate field",
        "HEAD}{}|$: policy is not valid JSON",
        "|$: policy is empty",
    })
    void refused(String json, String message) {
        String doc = json == null ? "" : json.replace("HEAD", HEAD).replace("H32", H32);
        assertThatThrownBy(() -> read(doc)).isInstanceOf(PolicyException.class).hasMessageContaining(message);
    }

    @Test
    void deepNestingIsRefusedBeforeItCostsAnything() {
        String deep = HEAD + ",\"pcrs\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertThatThrownBy(() -> read(deep)).isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("$: policy exceeds a limit");
    }

    @Test
    void hugeDocumentsAreRefused() {
        BootPolicyJson small = new BootPolicyJson(new BootPolicyLimits(1024, 8, 10, 256));
        byte[] big = (HEAD + ",\"kernelCmdlines\":[\"" + "a".repeat(2000) + "\"]}").getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> small.read(big)).isInstanceOf(PolicyException.class)
                .hasMessage("$: policy is larger than 1024 bytes");
        assertThatThrownBy(() -> small.read(new java.io.ByteArrayInputStream(big)))
                .isInstanceOf(PolicyException.class).hasMessage("$: policy is larger than 1024 bytes");
        BootPolicyJson mid = new BootPolicyJson(new BootPolicyLimits(1 << 20, 8, 10, 256));
        assertThatThrownBy(() -> mid.read(big)).isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("$: policy exceeds a limit");
        StringBuilder many = new StringBuilder(HEAD + ",\"kernelCmdlines\":[");
        for (int i = 0; i < 11; i++) {
            many.append(i == 0 ? "" : ",").append("\"x\"");
        }
        assertThatThrownBy(() -> mid.read(many.append("]}").toString().getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(PolicyException.class).hasMessage("$.kernelCmdlines: has more than 10 entries");
    }

    @Test
    void aCatastrophicRegexDoesNotHangTheVerifier() {
        CmdlineRule r = new CmdlineRule("(a+)+b");
        long start = System.nanoTime();
        assertThat(r.matches("a".repeat(64), CmdlineCheck.REGEX_BUDGET)).isFalse();
        assertThat(System.nanoTime() - start).isLessThan(5_000_000_000L);
    }
}
