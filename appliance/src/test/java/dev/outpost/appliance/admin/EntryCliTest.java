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
import dev.outpost.mqtt.protocol.Entries;
import dev.outpost.testkit.CliRun;

/** {@code entry create|list|show|delete} against a real appliance: validation refusals, the revision, the audit. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EntryCliTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String NODE = AdminHarness.deviceId(1);
    static final String OTHER = AdminHarness.deviceId(2);

    AdminHarness h;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        h = new AdminHarness(dir).seedDevice(1, DeviceState.TRUSTED, null).seedDevice(2, DeviceState.ENROLLED, null)
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

    private CliRun create(String id, String parent, String selector, String... more) {
        String[] base = {"entry", "create", "--spiffe-id", id, "--parent", parent, "--selector", selector};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return cli(all);
    }

    @Test
    void anEntryIsCreatedListedShownAndDeletedWithTheRevisionMovingAndEachChangeAudited() throws Exception {
        long before = JSON.readTree(cli("entry", "list", "--json").out()).path("revision").asLong();
        CliRun made = create("spiffe://outpost.test/app/web", "tpm:ek-hash:" + NODE, "unix:uid:1000",
                "--selector", "unix:path:/usr/bin/web", "--ttl", "30m", "--jwt-ttl", "2m", "--dns", "web.local",
                "--federates-with", "partner.test", "--json");
        assertThat(made.exitCode()).as(made.err()).isZero();
        JsonNode e = JSON.readTree(made.out());
        String id = e.path("id").asText();
        assertThat(id).matches("[0-9a-f-]{36}");
        assertThat(e.path("ttlSeconds").asLong()).isEqualTo(1800);
        assertThat(e.path("jwtTtlSeconds").asLong()).isEqualTo(120);
        assertThat(e.path("selectors").toString()).contains("unix:uid:1000").contains("unix:path:/usr/bin/web");
        assertThat(e.path("dnsNames").toString()).contains("web.local");

        JsonNode list = JSON.readTree(cli("entry", "list", "--json").out());
        assertThat(list.path("revision").asLong()).isEqualTo(before + 1);
        assertThat(list.path("entries").toString()).contains(id);
        assertThat(cli("entry", "list").out()).contains(id).contains("spiffe://outpost.test/app/web");
        CliRun shown = cli("entry", "show", id);
        assertThat(shown.out()).contains("tpm:ek-hash:" + NODE).contains("unix:uid:1000").contains("partner.test");

        CliRun deleted = cli("entry", "delete", id);
        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        assertThat(JSON.readTree(cli("entry", "list", "--json").out()).path("revision").asLong()).isEqualTo(before + 2);
        CliRun again = cli("entry", "delete", id);
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.err()).contains("404").contains("no entry " + id);
        assertThat(cli("entry", "show", "not-a-uuid").err()).contains("400").contains("lowercase UUID");

        String audit = h.get("/v1/audit?limit=20").body();
        assertThat(audit).contains("entry " + id + " created: spiffe://outpost.test/app/web")
                .contains("entry " + id + " deleted");
    }

    @Test
    void invalidEntriesAreRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        long before = JSON.readTree(cli("entry", "list", "--json").out()).path("revision").asLong();
        String p = "tpm:ek-hash:" + NODE;
        assertRefused(create("spiffe://other.test/app", p, "unix:uid:1"), "not in this site's trust domain");
        assertRefused(create("spiffe://outpost.test/agent/tpm/" + NODE, p, "unix:uid:1"), "under /agent/");
        assertRefused(create("spiffe://outpost.test", p, "unix:uid:1"), "give a path");
        assertRefused(create("spiffe://outpost.test/a//b", p, "unix:uid:1"), "spiffe-id");
        assertRefused(create("spiffe://outpost.test/app", "outpost:state:trusted", "unix:uid:1"), "state is not a parent");
        assertRefused(create("spiffe://outpost.test/app", "tpm:ek-hash:XYZ", "unix:uid:1"), "not a node selector");
        assertRefused(create("spiffe://outpost.test/app", "outpost:label:line 1", "unix:uid:1"), "not a node selector");
        assertRefused(create("spiffe://outpost.test/app", p, "unix:uid:-1"), "not a workload selector");
        assertRefused(create("spiffe://outpost.test/app", p, "k8s:ns:default"), "not a workload selector");
        assertRefused(create("spiffe://outpost.test/app", p, "ima:verified"), "alone matches any");
        assertRefused(create("spiffe://outpost.test/app", p, "unix:uid:1", "--selector", "unix:uid:1"), "given twice");
        assertRefused(create("spiffe://outpost.test/app", p, "unix:uid:1", "--ttl", "10s"), "ttl");
        assertRefused(create("spiffe://outpost.test/app", p, "unix:uid:1", "--ttl", "2d"), "outside");
        assertRefused(create("spiffe://outpost.test/app", p, "unix:uid:1", "--jwt-ttl", "2h"), "jwt-ttl");
        assertRefused(create("spiffe://outpost.test/app", p, "unix:uid:1", "--dns", "*.local"), "not a DNS name");
        assertRefused(create("spiffe://outpost.test/app", p, "unix:uid:1", "--federates-with", "outpost.test"),
                "own trust domain");
        CliRun badTtl = create("spiffe://outpost.test/app", p, "unix:uid:1", "--ttl", "soon");
        assertThat(badTtl.exitCode()).isNotZero();
        assertThat(badTtl.err()).contains("not a duration");
        // Over the API, the lists the CLI makes required may be missing: refused by name.
        AdminHarness.Reply noParent = h.post("/v1/entries", "{\"spiffeId\":\"spiffe://outpost.test/app\",\"selectors\":[\"unix:uid:1\"]}");
        assertThat(noParent.status()).isEqualTo(400);
        assertThat(noParent.error()).contains("at least one node selector");
        AdminHarness.Reply noSelector = h.post("/v1/entries", "{\"spiffeId\":\"spiffe://outpost.test/app\",\"parents\":[\"" + p + "\"]}");
        assertThat(noSelector.error()).contains("at least one workload selector");
        assertThat(h.post("/v1/entries", "{\"spiffeId\":\"spiffe://outpost.test/app\",\"parents\":\"x\"}").error())
                .contains("parents must be an array");
        assertThat(JSON.readTree(cli("entry", "list", "--json").out()).path("revision").asLong()).isEqualTo(before);
    }

    @Test
    void aNodeCannotBeGivenMoreEntriesThanOneReplyCarries() throws Exception {
        // Entries for the other node only: its parents are its own EK hash, which the first node does not hold.
        String p = "tpm:ek-hash:" + OTHER;
        for (int i = 0; i < Entries.MAX_ENTRIES; i++) {
            AdminHarness.Reply r = h.post("/v1/entries", "{\"spiffeId\":\"spiffe://outpost.test/many/" + i
                    + "\",\"parents\":[\"" + p + "\"],\"selectors\":[\"unix:uid:" + i + "\"]}");
            assertThat(r.status()).as(r.body()).isEqualTo(201);
        }
        AdminHarness.Reply over = h.post("/v1/entries", "{\"spiffeId\":\"spiffe://outpost.test/many/x\",\"parents\":[\""
                + p + "\",\"outpost:site:test-site\"],\"selectors\":[\"unix:uid:1\"]}");
        assertThat(over.status()).isEqualTo(400);
        assertThat(over.error()).contains(OTHER).contains("limit per node is " + Entries.MAX_ENTRIES);
        // Another node is not affected by them.
        CliRun fine = create("spiffe://outpost.test/solo", "tpm:ek-hash:" + NODE, "unix:uid:5");
        assertThat(fine.exitCode()).as(fine.err()).isZero();
    }

    @Test
    void theSpiffeBundleCarriesTheSiteJwtAuthorityWithItsKid() throws Exception {
        JsonNode b = JSON.readTree(h.get("/v1/bundle?format=spiffe").body());
        JsonNode jwt = null;
        for (JsonNode k : b.path("keys")) {
            if ("jwt-svid".equals(k.path("use").asText())) {
                jwt = k;
            }
        }
        assertThat(jwt).as("a jwt-svid key in " + b).isNotNull();
        assertThat(jwt.path("kty").asText()).isEqualTo("EC");
        assertThat(jwt.path("crv").asText()).isEqualTo("P-256");
        assertThat(jwt.path("kid").asText()).hasSize(22);
        assertThat(dev.outpost.spiffe.SpiffeJwks.parse(b.toString()).jwtAuthorities()).containsKey(jwt.path("kid").asText());
    }

    private static void assertRefused(CliRun r, String why) {
        assertThat(r.exitCode()).as(r.out()).isNotZero();
        assertThat(r.err()).contains(why);
    }
}
