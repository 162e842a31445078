package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.central.ca.Certs;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.store.FederationStore;
import dev.outpost.spiffe.PemIo;
import io.spiffe.svid.x509svid.X509SvidValidator;

/**
 * The SPIFFE Federation bundle endpoint, both profiles, read by a client that shares no code with central; and a
 * second central federating with both endpoints and handing the foreign bundles to its sites.
 */
class BundleEndpointTest {

    @Test
    void bothProfilesServeTheBundleAndAnotherCentralFederates(@TempDir Path dir) throws Exception {
        WebPki web = WebPki.make(dir.resolve("web"));
        CentralConfig spiffeCfg = Harness.config(dir.resolve("a"), null);
        spiffeCfg.trustDomain = "a.example";
        CentralConfig webCfg = Harness.config(dir.resolve("w"), null);
        webCfg.trustDomain = "w.example";
        webCfg.bundleEndpoint.profile = "https_web";
        webCfg.bundleEndpoint.certFile = web.certPem().toString();
        webCfg.bundleEndpoint.keyFile = web.keyPem().toString();
        CentralConfig homeCfg = Harness.config(dir.resolve("home"), null);
        homeCfg.federation.webCaFile = web.rootPem().toString();

        try (Harness a = Harness.start(spiffeCfg); Harness w = Harness.start(webCfg); Harness home = Harness.start(homeCfg)) {
            // https_spiffe: the client anchors on a.example's roots (obtained out of band) and checks the SVID's ID.
            StrictBundle.Read a0 = StrictBundle.read("a.example", fetchSpiffe(a));
            assertThat(StrictBundle.list(a0)).containsExactlyInAnyOrderElementsOf(a.services().ca.roots());
            assertThat(a0.refreshHint()).isEqualTo(300);

            Sites site = Sites.joinByToken(a, "s1");
            assertThat(site.signSiteCa(Csrs.ecKey()).status()).isEqualTo(200);
            StrictBundle.Read a1 = StrictBundle.read("a.example", fetchSpiffe(a));
            assertThat(a1.sequence()).isGreaterThan(a0.sequence());
            assertThat(a1.bundle().getX509Authorities()).hasSize(2);
            // The SPIFFE project's validator accepts a.example's site credential against the bundle we read.
            X509SvidValidator.verifyChain(PemIo.certificates(site.credentialPem(), 4), a1.bundle());

            // https_web: ordinary web PKI validation, host name included.
            StrictBundle.Read w0 = StrictBundle.read("w.example", fetchWeb(w, web));
            assertThat(StrictBundle.list(w0)).containsExactlyInAnyOrderElementsOf(w.services().ca.roots());

            // home federates with both; https_spiffe bootstrapped by a bundle file.
            Path aBundle = dir.resolve("a-bundle.json");
            Files.writeString(aBundle, a.services().bundle.json(a.services().bundle.snapshot()));
            var fed = new dev.outpost.central.federation.FederationAdmin(home.services().db, home.clock, Harness.TD);
            fed.add("a.example", "https://127.0.0.1:" + a.app.bundlePort() + "/", "https_spiffe",
                    "spiffe://a.example/outpost/bundle-endpoint", Files.readString(aBundle));
            fed.add("w.example", "https://localhost:" + w.app.bundlePort() + "/", "https_web", null, null);
            fed.add("x.example", "https://127.0.0.1:" + a.app.bundlePort() + "/", "https_spiffe",
                    "spiffe://x.example/outpost/bundle-endpoint", Files.readString(aBundle));
            home.app.poller().pollDue();

            Sites homeSite = Sites.joinByToken(home, "h1");
            JsonNode federated = homeSite.client().get("/v1/site/bundle", null).body().get("federated");
            assertThat(StrictBundle.list(StrictBundle.read("a.example", federated.get("a.example"))))
                    .containsExactlyInAnyOrderElementsOf(StrictBundle.list(a1));
            assertThat(StrictBundle.list(StrictBundle.read("w.example", federated.get("w.example"))))
                    .containsExactlyInAnyOrderElementsOf(w.services().ca.roots());

            // Fail closed: an endpoint whose SVID is not the configured ID yields no new bundle, and says why.
            FederationStore.Relation x = fed.list().stream().filter(r -> r.trustDomain().equals("x.example")).findFirst().orElseThrow();
            assertThat(x.lastError()).contains("spiffe://a.example/outpost/bundle-endpoint");
            assertThat(x.sequence()).isNull();
        }
    }

    private static JsonNode fetchSpiffe(Harness h) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        int i = 0;
        for (X509Certificate r : h.services().ca.roots()) {
            ks.setCertificateEntry("r" + i++, r);
        }
        HttpsURLConnection c = (HttpsURLConnection) URI.create("https://127.0.0.1:" + h.app.bundlePort() + "/").toURL().openConnection();
        c.setSSLSocketFactory(context(ks).getSocketFactory());
        String expected = "spiffe://" + h.config.trustDomain + "/outpost/bundle-endpoint";
        c.setHostnameVerifier((host, session) -> {
            try {
                return Certs.uriSans((X509Certificate) session.getPeerCertificates()[0]).equals(List.of(expected));
            } catch (Exception e) {
                return false;
            }
        });
        return read(c);
    }

    private static JsonNode fetchWeb(Harness h, WebPki web) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("web", PemIo.certificates(Files.readString(web.rootPem()), 1).get(0));
        URL url = URI.create("https://localhost:" + h.app.bundlePort() + "/").toURL();
        HttpsURLConnection c = (HttpsURLConnection) url.openConnection();
        c.setSSLSocketFactory(context(ks).getSocketFactory());
        return read(c);
    }

    private static SSLContext context(KeyStore ks) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static JsonNode read(HttpsURLConnection c) throws Exception {
        assertThat(c.getResponseCode()).isEqualTo(200);
        assertThat(c.getContentType()).startsWith("application/json");
        try (InputStream in = c.getInputStream()) {
            return SiteClient.JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
