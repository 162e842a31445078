package dev.outpost.ima.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.outpost.ima.TestData;
import dev.outpost.ima.policy.PolicyException;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventType;
import dev.outpost.tpm.eventlog.Guid;

class KeylimeRefStateTest {

    @Test
    void keylimesExampleReferenceStateConverts() throws Exception {
        byte[] json = Files.readAllBytes(TestData.file(
                "policies/keylime/measured-boot/example_reference_state.json"));
        GeneratedPolicy g = KeylimeRefState.convert(json, BootPolicyLimits.DEFAULT);
        BootPolicy p = g.policy();
        assertThat(p.secureBoot()).isEqualTo(BootPolicy.SecureBoot.ENABLED);
        assertThat(p.pk().entries()).hasSize(1);
        // Keylime's 61dfe48b-ca93-d211-... is EFI_GLOBAL_VARIABLE in storage byte order.
        assertThat(p.pk().entries().get(0).owner()).isEqualTo(new Guid("8be4df61-93ca-11d2-aa0d-00e098032b8c"));
        assertThat(p.kek().entries()).hasSize(2);
        assertThat(p.db().entries()).hasSize(2).allMatch(e -> e.kind() == AllowedSignature.Kind.CERT_SHA256);
        assertThat(p.dbx().mode()).isEqualTo(SignatureDatabase.Mode.SUPERSET);
        assertThat(p.dbx().entries()).singleElement().extracting(AllowedSignature::kind)
                .isEqualTo(AllowedSignature.Kind.HASH_SHA256);
        assertThat(p.applications()).extracting(AllowedApplication::comment)
                .containsExactly("kernels[0] shim", "kernels[0] grub", "kernels[0] kernel");
        assertThat(p.kernelCmdlines()).singleElement().extracting(CmdlineRule::regex).asString()
                .startsWith("/boot/vmlinuz-5.4.0-81-generic root=UUID=");
        assertThat(p.eventDigests()).extracting(EventDigestRule::pcr).containsExactly(0, 0, 14, 14, 9);
        assertThat(g.warnings()).anyMatch(w -> w.contains("Python regexes"));
        BootPolicyJson io = new BootPolicyJson();
        assertThat(io.read(io.write(p))).isEqualTo(p);
    }

    @Test
    void anUnknownKeyRefusesTheConversion() {
        byte[] json = "{\"kernels\":[],\"tpm_event_log_extras\":[]}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> KeylimeRefState.convert(json, BootPolicyLimits.DEFAULT))
                .isInstanceOf(PolicyException.class)
                .hasMessage("$: unsupported member \"tpm_event_log_extras\" (its check would be lost)");
        byte[] bad = "{\"dbx\":[{\"SignatureOwner\":\"x\",\"SignatureData\":\"0x00\"}]}".getBytes();
        assertThatThrownBy(() -> KeylimeRefState.convert(bad, BootPolicyLimits.DEFAULT))
                .hasMessage("$.dbx[0].SignatureOwner: not a GUID");
    }

    @Test
    void eventDigestRulesAllowRefuseAndRequire() {
        EventLog log = new BootLogFixture().log();
        BootPolicy base = BootPolicyGenerator.generate(log, false).policy();
        byte[] crtm = HashAlg.SHA256.digest(BootLogFixture.utf16("1.0"));
        EventDigestRule good = new EventDigestRule("crtm", 0, Set.of(EventType.EV_S_CRTM_VERSION.value()), null,
                List.of(new AllowedApplication("v1.0", Map.of(HashAlg.SHA256, crtm))));
        EventDigestRule wrong = new EventDigestRule("crtm", 0, Set.of(EventType.EV_S_CRTM_VERSION.value()), null,
                List.of(new AllowedApplication("v2.0", Map.of(HashAlg.SHA256, new byte[32]))));
        EventDigestRule absent = new EventDigestRule("mok", 7, Set.of(EventType.EV_IPL.value()),
                new CmdlineRule("MokList"), List.of(new AllowedApplication("x", Map.of(HashAlg.SHA256, crtm))));
        for (var c : List.of(Map.entry(good, List.<String>of()), Map.entry(wrong, List.of("boot.event.not_allowed")),
                Map.entry(absent, List.of("boot.event.not_measured")))) {
            BootPolicy p = new BootPolicy(base.secureBoot(), base.pk(), base.kek(), base.db(), base.dbx(),
                    base.applications(), base.kernelCmdlines(), List.of(c.getKey()), Map.of());
            assertThat(BootPolicyEvaluator.evaluate(p, log, BootPolicyEvaluatorTest.quoteOf(log)).failures())
                    .extracting(BootFailure::id).isEqualTo(c.getValue());
            assertThat(new BootPolicyJson().read(new BootPolicyJson().write(p))).isEqualTo(p);
        }
    }
}
