package dev.outpost.appliance.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.upstream.CentralAddresses;
import dev.outpost.appliance.upstream.SiteApiClient;
import dev.outpost.appliance.upstream.UpstreamException;
import dev.outpost.appliance.upstream.UpstreamLink;
import dev.outpost.testkit.FaultProxy;

/**
 * The site's upward client against a real central (H2, in-process) through {@link FaultProxy}: several addresses
 * fail over in one round and stick to the one that answers; a stalled link or a dropped answer ends at the request
 * deadline instead of hanging the caller.
 */
class UpstreamFailoverTest {

    @Test
    void aDeadAddressFailsOverToTheNextAndTheLinkSticksToIt(@TempDir Path dir) throws Exception {
        try (CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"),
                SiteHarness.TRUST_DOMAIN, 0);
                FaultProxy first = FaultProxy.to(central.app().sitePort());
                FaultProxy second = FaultProxy.to(central.app().sitePort())) {
            String token = central.services().admin.add("test-site", null, java.time.Duration.ofHours(1)).token();
            Path root = central.rootPem(dir.resolve("root.pem"));
            first.down();
            ApplianceConfig config = config(dir, root, token, "https://127.0.0.1:" + first.port(),
                    "https://127.0.0.1:" + second.port());
            CentralAddresses addresses = new CentralAddresses(config.upstream().addresses());
            UpstreamLink link = UpstreamLink.create(config, Clock.systemUTC(), addresses);

            // Joins and fetches the bundle through the second address: the first refuses connections.
            assertThat(link.bundles(null)).isPresent();
            assertThat(addresses.currentIndex()).isEqualTo(1);
            assertThat(addresses.failovers()).isEqualTo(1);
            long acceptedBefore = first.accepted();

            // The first comes back: calls stay on the second while it answers (no bouncing between instances).
            first.pass();
            assertThat(link.bundles(null)).isPresent();
            assertThat(addresses.currentIndex()).isEqualTo(1);
            assertThat(first.accepted()).isEqualTo(acceptedBefore);

            // The second stalls (accepts, answers nothing): the call gives up at the deadline and moves to the first.
            second.stall();
            assertThat(link.bundles(null)).isPresent();
            assertThat(addresses.currentIndex()).isZero();
            assertThat(addresses.failovers()).isEqualTo(2);
            assertThat(addresses.status()).containsEntry("address", "https://127.0.0.1:" + first.port());

            // Both broken: one round, then the last failure for the caller's back-off.
            first.dropResponses();
            second.down();
            assertThatThrownBy(() -> link.bundles(null)).isInstanceOf(UpstreamException.class)
                    .satisfies(e -> assertThat(((UpstreamException) e).transientFailure()).isTrue());
        }
    }

    @Test
    void aStalledAnswerEndsAtTheRequestDeadline(@TempDir Path dir) throws Exception {
        try (CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"),
                SiteHarness.TRUST_DOMAIN, 0);
                FaultProxy proxy = FaultProxy.to(central.app().sitePort())) {
            java.net.URI uri = java.net.URI.create("https://127.0.0.1:" + proxy.port());
            SiteApiClient patient = new SiteApiClient(uri, central.services().ca.roots(), null, null,
                    java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(30));
            SiteApiClient client = new SiteApiClient(uri, central.services().ca.roots(), null, null,
                    java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(2));
            // Through a healthy link central answers (401: no credential), which is an answer, not a timeout.
            assertThatThrownBy(() -> patient.get("/v1/site/bundle", null)).isInstanceOf(UpstreamException.class)
                    .satisfies(e -> assertThat(((UpstreamException) e).status()).isEqualTo(401));
            // The TLS handshake is cut after a few bytes reach central: nothing comes back, the call ends anyway.
            proxy.cutAfter(100);
            // Our deadline or the JDK's own request timeout (it says "connect timed out" while the handshake stalls)
            // ends it, whichever fires first: both are 2 s.
            assertThatThrownBy(() -> client.get("/v1/site/bundle", null)).isInstanceOf(UpstreamException.class)
                    .satisfies(e -> assertThat(e.getMessage()).containsAnyOf("did not answer in 2 s", "timed out"))
                    .satisfies(e -> assertThat(((UpstreamException) e).status()).isZero());
            proxy.dropResponses();
            assertThatThrownBy(() -> client.get("/v1/site/bundle", null)).isInstanceOf(UpstreamException.class)
                    .satisfies(e -> assertThat(e.getMessage()).containsAnyOf("did not answer in 2 s", "timed out"));
        }
    }

    static ApplianceConfig config(Path dir, Path root, String token, String... urls) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        return ApplianceConfig.parse(String.join("\n",
                "trustDomain: " + SiteHarness.TRUST_DOMAIN,
                "site: test-site",
                "dataDir: " + data,
                "ca:",
                "  mode: nested",
                "upstream:",
                "  urls: [" + String.join(", ", List.of(urls)) + "]",
                "  caFile: " + root,
                "  join: token",
                "  token: " + token,
                // Generous for a loaded test machine; the stalled address still costs only this long.
                "  connectTimeout: PT5S",
                "  requestTimeout: PT5S",
                ""), "test");
    }
}
