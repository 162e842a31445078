package dev.outpost.appliance.directives;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.appliance.upstream.UpstreamException;
import dev.outpost.tpm.HashAlg;

/** The site reads central's directives strictly: anything off the contract refuses the page, so nothing is skipped. */
class DirectiveMessagesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode page(long latest) {
        ObjectNode n = JSON.createObjectNode().put("v", 1).put("latest", latest);
        n.putArray("directives");
        return n;
    }

    private static ObjectNode add(ObjectNode page, long v, String kind) {
        ObjectNode d = ((ArrayNode) page.get("directives")).addObject().put("version", v).put("kind", kind);
        return d.putObject("data");
    }

    private static byte[] bytes(ObjectNode n) {
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aWellFormedPageIsTyped() throws Exception {
        ObjectNode p = page(3);
        add(p, 2, "device.ban").put("ekHash", "ab".repeat(32)).put("reason", "stolen");
        byte[] policy = DirectiveApplierTest.runtimePolicy("/bin/a");
        add(p, 3, "policy.put").put("name", "fleet").put("kind", "runtime")
                .put("content", new String(policy, StandardCharsets.UTF_8))
                .put("sha256", HexFormat.of().formatHex(HashAlg.SHA256.digest(policy)));
        Directive.Page page = DirectiveMessages.page(bytes(p), 1);
        assertThat(page.latest()).isEqualTo(3);
        assertThat(page.directives()).hasSize(2);
        assertThat(page.directives().get(0)).isEqualTo(new Directive.Ban(2, "ab".repeat(32), "stolen"));
        assertThat(((Directive.PolicyPut) page.directives().get(1)).content()).isEqualTo(policy);
    }

    @Test
    void theDirectivesBeforeOneThisSiteCannotUseAreKept() throws Exception {
        ObjectNode p = page(4);
        add(p, 2, "device.ban").put("ekHash", "ab".repeat(32)).put("reason", "stolen");
        add(p, 3, "site.reboot").put("when", "now");
        add(p, 4, "policy.delete").put("name", "a");
        Directive.Page page = DirectiveMessages.page(bytes(p), 1);
        assertThat(page.directives()).containsExactly(new Directive.Ban(2, "ab".repeat(32), "stolen"));
        assertThat(page.unreadable()).contains("directive 3 (site.reboot)").contains("upgrade the appliance");
    }

    @Test
    void offContractPagesAreRefusedWithAReason() throws Exception {
        ObjectNode unknownKind = page(2);
        add(unknownKind, 2, "site.reboot");
        ObjectNode notIncreasing = page(5);
        add(notIncreasing, 3, "policy.delete").put("name", "a");
        add(notIncreasing, 3, "policy.delete").put("name", "b");
        ObjectNode notAfter = page(5);
        add(notAfter, 1, "policy.delete").put("name", "a");
        ObjectNode pastLatest = page(2);
        add(pastLatest, 4, "policy.delete").put("name", "a");
        ObjectNode badSha = page(2);
        add(badSha, 2, "policy.put").put("name", "p").put("kind", "runtime")
                .put("content", new String(DirectiveApplierTest.runtimePolicy("/x"), StandardCharsets.UTF_8))
                .put("sha256", "00".repeat(32));
        ObjectNode notAPolicy = page(2);
        byte[] junk = "{\"digests\":1}".getBytes(StandardCharsets.UTF_8);
        add(notAPolicy, 2, "policy.put").put("name", "p").put("kind", "runtime").put("content", "{\"digests\":1}")
                .put("sha256", HexFormat.of().formatHex(HashAlg.SHA256.digest(junk)));
        ObjectNode extraField = page(2);
        add(extraField, 2, "policy.delete").put("name", "a").put("force", true);
        ObjectNode badLabel = page(2);
        add(badLabel, 2, "policy.assign").put("name", "a").put("label", "no spaces");
        ObjectNode badHash = page(2);
        add(badHash, 2, "device.ban").put("ekHash", "AB".repeat(32)).put("reason", "x");
        ObjectNode v2 = page(0).put("v", 2);
        ObjectNode noVersion = page(2);
        ((ArrayNode) noVersion.get("directives")).addObject().put("kind", "policy.delete").putObject("data");
        // Not central's envelope: the page is refused.
        for (ObjectNode bad : new ObjectNode[] {notIncreasing, notAfter, pastLatest, v2, noVersion}) {
            assertThatThrownBy(() -> DirectiveMessages.page(bytes(bad), 1)).as(bad.toString())
                    .isInstanceOf(UpstreamException.class).hasMessageStartingWith("central's directives: ");
        }
        // A directive this site cannot use: nothing from it on, and why.
        for (ObjectNode bad : new ObjectNode[] {unknownKind, badSha, notAPolicy, extraField, badLabel, badHash}) {
            Directive.Page p = DirectiveMessages.page(bytes(bad), 1);
            assertThat(p.directives()).as(bad.toString()).isEmpty();
            assertThat(p.unreadable()).as(bad.toString()).startsWith("central's directives: directive 2 (");
        }
        assertThatThrownBy(() -> DirectiveMessages.page("not json".getBytes(StandardCharsets.UTF_8), 0))
                .isInstanceOf(UpstreamException.class);
    }
}
