package dev.outpost.appliance.site;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.state.AgentState;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.central.federation.FederationAdmin;
import dev.outpost.central.store.FederationStore;
import dev.outpost.testkit.MutableClock;

/**
 * A standalone site as a trust domain of its own: it serves its bundle on a SPIFFE Federation endpoint (https_spiffe,
 * an SVID of spiffe://outpost.test/outpost/bundle-endpoint from the site CA), and a central of another trust domain
 * federates with it through its own poller; a CA rotation moves the served sequence and reaches central.
 */
class SiteBundleEndpointTest {

    @Test
    void centralFederatesWithAStandaloneSitesBundleEndpoint(@TempDir Path dir) throws Exception {
        MutableClock clock = new MutableClock();
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .withClock(clock)
                .extraConfig(String.join("\n",
                        "federation:",
                        "  bundleEndpoint:",
                        "    enabled: true",
                        "    host: 127.0.0.1",
                        "    port: 0",
                        "    refreshHint: PT2M"))) {
            site.startAppliance();
            int port = site.appliance().bundleEndpointPort();
            assertThat(port).isPositive();
            String url = "https://127.0.0.1:" + port + "/";
            List<X509Certificate> siteRoots = AgentState.certificates(Files.readString(site.caPem()));

            // Only GET / is served.
            HttpClient anyServer = HttpClient.newBuilder().sslContext(trustingAnything()).build();
            assertThat(anyServer.send(HttpRequest.newBuilder(URI.create(url + "x")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
            assertThat(anyServer.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString("{}"))
                    .build(), HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(405);
            HttpResponse<String> served = anyServer.send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(served.statusCode()).isEqualTo(200);
            assertThat(served.body()).contains("\"spiffe_refresh_hint\":120");
            assertThat(TrustBundle.parseSpiffeJwks(served.body())).containsExactlyElementsOf(siteRoots);
            // The site's JWT authority is published too (use jwt-svid, with its kid). java-spiffe's JwtBundle takes every
            // key of a document (it does not skip x509-svid ones, which have no kid), so it is given the jwt-svid part.
            dev.outpost.spiffe.SpiffeJwks.Parsed parsed = dev.outpost.spiffe.SpiffeJwks.parse(served.body());
            java.util.Map<String, java.security.PublicKey> jwtKeys = parsed.jwtAuthorities();
            assertThat(jwtKeys).hasSize(1);
            io.spiffe.bundle.jwtbundle.JwtBundle jwtBundle = io.spiffe.bundle.jwtbundle.JwtBundle.parse(
                    io.spiffe.spiffeid.TrustDomain.parse(SiteHarness.TRUST_DOMAIN),
                    parsed.jwtAuthoritiesJwks().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(jwtBundle.getJwtAuthorities()).containsOnlyKeys(jwtKeys.keySet());

            try (CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"), "corp.test", 0)) {
                FederationAdmin fed = new FederationAdmin(central.services().db, central.services().clock, "corp.test");
                // Bootstrapped out of band with the site's bundle, as the standard's https_spiffe profile asks.
                fed.add(SiteHarness.TRUST_DOMAIN, url, "https_spiffe", "spiffe://outpost.test/outpost/bundle-endpoint",
                        served.body());
                central.app().poller().pollDue();
                FederationStore.Relation r = relation(fed);
                assertThat(r.lastError()).isNull();
                assertThat(TrustBundle.parseSpiffeJwks(r.bundle())).containsExactlyElementsOf(siteRoots);
                long before = r.sequence();

                // Half of the CA's lifetime later the next root is published: the served sequence moves, and central
                // takes the new bundle (still authenticating the endpoint by the bundle it holds).
                CaRotation rotation = site.appliance().caRotation();
                clock.advance(Duration.between(clock.instant(), rotation.prepareAt()).plusMinutes(1));
                assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
                central.app().poller().poll(r);
                FederationStore.Relation after = relation(fed);
                assertThat(after.lastError()).isNull();
                assertThat(after.sequence()).isGreaterThan(before);
                assertThat(TrustBundle.parseSpiffeJwks(after.bundle())).hasSize(2).containsAll(siteRoots);

                // An endpoint that claims another SPIFFE ID is refused by central, and what it held is kept.
                fed.add("other.test", url, "https_spiffe", "spiffe://other.test/outpost/bundle-endpoint", served.body()
                        .replace("outpost.test", "other.test"));
                central.app().poller().pollDue();
                FederationStore.Relation other = fed.list().stream().filter(x -> x.trustDomain().equals("other.test"))
                        .findFirst().orElseThrow();
                assertThat(other.lastError()).isNotNull();
            }
        }
    }

    private static FederationStore.Relation relation(FederationAdmin fed) {
        return fed.list().stream().filter(x -> x.trustDomain().equals(SiteHarness.TRUST_DOMAIN)).findFirst().orElseThrow();
    }

    // The 404/405 checks are about the HTTP surface only; who the server is gets checked by central's client above.
    private static SSLContext trustingAnything() throws Exception {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, new TrustManager[] {new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket s) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket s) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine e) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine e) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return c;
    }
}
