package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Entries;
import dev.outpost.mqtt.protocol.EntriesRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.SiteBundle;
import dev.outpost.mqtt.protocol.WorkloadEntry;
import dev.outpost.mqtt.protocol.WorkloadJwtIssued;
import dev.outpost.mqtt.protocol.WorkloadJwtRequest;
import dev.outpost.mqtt.protocol.WorkloadSvidIssued;
import dev.outpost.mqtt.protocol.WorkloadSvidRequest;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.spiffe.PemIo;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.MutableClock;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.testkit.Tools;

/**
 * Workload identities end to end: a device on a swtpm enrolls and passes attestation for real, then, holding its node
 * SVID, asks the appliance over its MQTT endpoint for its entries, a workload X509-SVID (verified by openssl against
 * the site bundle and parsed by java-spiffe) and a JWT-SVID (verified by java-spiffe and by Nimbus against the JWT
 * authorities on the retained site topic and in the admin API's SPIFFE bundle); and is refused what its entries do
 * not give, and everything once it is no longer trusted.
 */
@ExtendWith(SwtpmExtension.class)
class WorkloadSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] WEB = "the web server binary".getBytes(StandardCharsets.UTF_8);

    @Test
    void aTrustedNodeGetsWorkloadSvidsForItsEntriesOnlyAndNoneOnceStale(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/web", WEB);
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        MutableClock clock = new MutableClock();
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1)).withClock(clock)
                .attestEvery(Duration.ofSeconds(5), Duration.ofMinutes(5))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String deviceId = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted with its node SVID", Duration.ofSeconds(90), () -> "trusted".equals(agent.daemon().verdict())
                    && nodeSvid(config, deviceId));
            // The agent's own session would take this client's over (same client id): the test plays the device now.
            SiteHarness.stopAgent(agent);

            String web = entry(site, "--spiffe-id", "spiffe://outpost.test/app/web", "--parent", "tpm:ek-hash:" + deviceId,
                    "--parent", "outpost:site:test-site", "--selector", "unix:uid:1000", "--dns", "web.local",
                    "--ttl", "30m", "--jwt-ttl", "2m");
            String measured = entry(site, "--spiffe-id", "spiffe://outpost.test/app/measured", "--parent",
                    "outpost:node-key:tpm", "--selector", "unix:path:/usr/bin/web", "--selector", "ima:verified");
            String elsewhere = entry(site, "--spiffe-id", "spiffe://outpost.test/app/other", "--parent",
                    "tpm:ek-hash:" + "ab".repeat(32), "--selector", "unix:uid:1");

            try (ApplianceClient c = SiteHarness.connectWithSvid(site, config)) {
                CompletableFuture<byte[]> bundle = new CompletableFuture<>();
                c.followSiteBundle(bundle::complete);

                Entries entries = c.request(Kind.ENTRIES, new EntriesRequest(Messages.VERSION, 0), Entries.class);
                assertThat(entries.entries()).extracting(WorkloadEntry::id).containsExactlyInAnyOrder(web, measured)
                        .doesNotContain(elsewhere);
                WorkloadEntry w = entries.entries().stream().filter(e -> e.id().equals(web)).findFirst().orElseThrow();
                assertThat(w.selectors()).containsExactly("unix:uid:1000");
                assertThat(w.x509TtlSeconds()).isEqualTo(1800);
                assertThat(w.dnsNames()).containsExactly("web.local");
                long revision = entries.revision();
                assertThat(revision).isEqualTo(3);

                // An X509-SVID for the entry: openssl verifies it against the site bundle; java-spiffe parses it.
                KeyPair key = p256();
                WorkloadSvidIssued svid = c.request(Kind.WORKLOAD_SVID, new WorkloadSvidRequest(Messages.VERSION, web,
                        csr(key, "spiffe://outpost.test/app/web", List.of("web.local"), false), null, null),
                        WorkloadSvidIssued.class);
                assertThat(svid.spiffeId()).isEqualTo("spiffe://outpost.test/app/web");
                List<X509Certificate> chain = PemIo.certificates(svid.svidPem(), 8);
                X509Certificate leaf = chain.get(0);
                assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
                assertThat(leaf.getKeyUsage()[0]).isTrue();
                assertThat(leaf.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
                assertThat(leaf.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList())
                        .containsExactlyInAnyOrder("spiffe://outpost.test/app/web", "web.local");
                // Life: the entry's 30 minutes, well inside ca.svidTtl from the pass.
                assertThat(Duration.between(clock.instant(), leaf.getNotAfter().toInstant()))
                        .isBetween(Duration.ofMinutes(29), Duration.ofMinutes(30));
                assertThat(svid.expiresAt()).isEqualTo(leaf.getNotAfter().getTime());
                Files.writeString(dir.resolve("leaf.pem"), svid.svidPem());
                SiteCaOpenssl.verify(site.caPem(), dir.resolve("leaf.pem"));
                io.spiffe.svid.x509svid.X509Svid parsed = io.spiffe.svid.x509svid.X509Svid.parseRaw(
                        concat(chain), key.getPrivate().getEncoded());
                assertThat(parsed.getSpiffeId().toString()).isEqualTo("spiffe://outpost.test/app/web");

                // What the entry does not give is refused, naming why.
                refused(c, web, csr(p256(), "spiffe://outpost.test/app/admin", List.of(), false), ErrorCode.BAD_REQUEST,
                        "entry " + web + " gives spiffe://outpost.test/app/web");
                refused(c, web, csr(p256(), "spiffe://outpost.test/app/web", List.of("web.local", "evil.local"), false),
                        ErrorCode.BAD_REQUEST, "DNS name 'evil.local'");
                refused(c, web, csr(p256(), "spiffe://outpost.test/app/web", List.of(), true), ErrorCode.BAD_REQUEST,
                        "basicConstraints");
                refused(c, elsewhere, csr(p256(), "spiffe://outpost.test/app/other", List.of(), false),
                        ErrorCode.FORBIDDEN, "no such entry for this node");
                refused(c, "00000000-0000-0000-0000-000000000000", csr(p256(), "spiffe://outpost.test/app/web",
                        List.of(), false), ErrorCode.FORBIDDEN, "no such entry for this node");

                // ima:verified: the device's runtime policy must allow that binary's digest at that path.
                String good = HexFormat.of().formatHex(dev.outpost.tpm.HashAlg.SHA256.digest(WEB));
                String evil = HexFormat.of().formatHex(dev.outpost.tpm.HashAlg.SHA256.digest("patched".getBytes()));
                WorkloadSvidIssued m = c.request(Kind.WORKLOAD_SVID, new WorkloadSvidRequest(Messages.VERSION, measured,
                        csr(p256(), "spiffe://outpost.test/app/measured", List.of(), false), "/usr/bin/web", good),
                        WorkloadSvidIssued.class);
                assertThat(m.spiffeId()).isEqualTo("spiffe://outpost.test/app/measured");
                assertThatThrownBy(() -> c.request(Kind.WORKLOAD_SVID, new WorkloadSvidRequest(Messages.VERSION, measured,
                        csr(p256(), "spiffe://outpost.test/app/measured", List.of(), false), "/usr/bin/web", evil),
                        WorkloadSvidIssued.class)).isInstanceOfSatisfying(ProtocolException.class, e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN);
                            assertThat(e.getMessage()).contains("does not allow that SHA-256 for /usr/bin/web");
                        });
                assertThatThrownBy(() -> c.request(Kind.WORKLOAD_SVID, new WorkloadSvidRequest(Messages.VERSION, measured,
                        csr(p256(), "spiffe://outpost.test/app/measured", List.of(), false), null, null),
                        WorkloadSvidIssued.class)).isInstanceOfSatisfying(ProtocolException.class,
                                e -> assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN));

                // A JWT-SVID, validated by java-spiffe and by Nimbus with the JWT authorities devices get.
                WorkloadJwtIssued jwt = c.request(Kind.WORKLOAD_JWT, new WorkloadJwtRequest(Messages.VERSION, web,
                        List.of("billing"), null, null), WorkloadJwtIssued.class);
                SiteBundle sb = new Codec(SiteBundle.LIMITS).decode(bundle.get(20, TimeUnit.SECONDS), SiteBundle.class);
                String jwks = sb.jwtAuthorities().get("outpost.test");
                io.spiffe.bundle.jwtbundle.JwtBundle jb = io.spiffe.bundle.jwtbundle.JwtBundle.parse(
                        io.spiffe.spiffeid.TrustDomain.parse("outpost.test"), jwks.getBytes(StandardCharsets.UTF_8));
                io.spiffe.svid.jwtsvid.JwtSvid valid = io.spiffe.svid.jwtsvid.JwtSvid.parseAndValidate(jwt.token(), jb,
                        Set.of("billing"));
                assertThat(valid.getSpiffeId().toString()).isEqualTo("spiffe://outpost.test/app/web");
                assertThat(valid.getExpiry().getTime()).isEqualTo(jwt.expiresAt());
                assertThat(Duration.ofMillis(jwt.expiresAt() - clock.millis())).isBetween(Duration.ofSeconds(100),
                        Duration.ofMinutes(2));
                SignedJWT nimbus = SignedJWT.parse(jwt.token());
                String spiffeBundle = new AdminClient(site.adminSocket()).get("/v1/bundle?format=spiffe").body();
                ECKey signer = (ECKey) JWKSet.parse(spiffeBundle).getKeyByKeyId(nimbus.getHeader().getKeyID());
                assertThat(signer).as("the token's kid is in the site's SPIFFE bundle").isNotNull();
                assertThat(nimbus.verify(new ECDSAVerifier(signer))).isTrue();
                assertThat(nimbus.getJWTClaimsSet().getJWTID()).isNotBlank();
                assertThatThrownBy(() -> c.request(Kind.WORKLOAD_JWT, new WorkloadJwtRequest(Messages.VERSION, elsewhere,
                        List.of("billing"), null, null), WorkloadJwtIssued.class))
                        .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN));

                String audit = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + deviceId + "&limit=100").body();
                assertThat(audit).contains("issued spiffe://outpost.test/app/web under entry " + web + ", serial "
                        + leaf.getSerialNumber().toString(16)).contains("jti " + nimbus.getJWTClaimsSet().getJWTID())
                        .contains("no such entry for this node");
            }

            // Past the freshness window without a pass, the device turns stale: nothing more is issued.
            clock.advance(Duration.ofMinutes(6));
            await("stale", Duration.ofSeconds(60), () -> state(site, deviceId).equals("stale"));
            try (ApplianceClient c = SiteHarness.connectWithSvid(site, config)) {
                refused(c, web, csr(p256(), "spiffe://outpost.test/app/web", List.of(), false), ErrorCode.NOT_TRUSTED,
                        "device is stale");
                assertThatThrownBy(() -> c.request(Kind.WORKLOAD_JWT, new WorkloadJwtRequest(Messages.VERSION, web,
                        List.of("billing"), null, null), WorkloadJwtIssued.class))
                        .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_TRUSTED));
            }
        }
    }

    @Test
    void aDeviceThatFailsAttestationGetsNoWorkloadSvidItIsKeptOutAtConnect(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/web", WEB);
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(2), Duration.ofMinutes(5))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String deviceId = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted with its node SVID", Duration.ofSeconds(90), () -> "trusted".equals(agent.daemon().verdict())
                    && nodeSvid(config, deviceId));
            String web = entry(site, "--spiffe-id", "spiffe://outpost.test/app/web", "--parent", "tpm:ek-hash:" + deviceId,
                    "--selector", "unix:uid:1000");
            // The device runs something its policy does not allow: the next attestation fails it.
            kernel.measureUnlisted("/tmp/cryptominer", "evil".getBytes(StandardCharsets.UTF_8));
            await("failed", Duration.ofSeconds(60), () -> state(site, deviceId).equals("failed"));
            SiteHarness.stopAgent(agent);
            // Its node SVID is still within its dates, but a failed device is kept out at CONNECT: no request reaches
            // the workload handlers at all (the handlers' own ATTESTATION_FAILED answer: WorkloadServiceTest).
            assertThatThrownBy(() -> {
                try (ApplianceClient c = SiteHarness.connectWithSvid(site, config)) {
                    c.request(Kind.WORKLOAD_SVID, new WorkloadSvidRequest(Messages.VERSION, web,
                            csr(p256(), "spiffe://outpost.test/app/web", List.of(), false), null, null),
                            WorkloadSvidIssued.class);
                }
            }).satisfies(e -> assertThat(e instanceof org.eclipse.paho.mqttv5.common.MqttException
                    || e instanceof ProtocolException p && p.code() == ErrorCode.ATTESTATION_FAILED)
                    .as("refused at CONNECT or by the handler, got " + e).isTrue());
            String audit = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + deviceId + "&limit=100").body();
            assertThat(audit).doesNotContain("issued spiffe://outpost.test/app/web");
        }
    }

    static String entry(SiteHarness site, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("entry", "create"));
        all.addAll(List.of(args));
        all.addAll(List.of("--json", "--socket", site.adminSocket().toString()));
        CliRun r = CliRun.run(ApplianceCli::commandLine, all.toArray(new String[0]));
        assertThat(r.exitCode()).as(r.err()).isZero();
        return JSON.readTree(r.out()).path("id").asText();
    }

    private static void refused(ApplianceClient c, String entry, String csr, ErrorCode code, String why) {
        assertThatThrownBy(() -> c.request(Kind.WORKLOAD_SVID, new WorkloadSvidRequest(Messages.VERSION, entry, csr, null,
                null), WorkloadSvidIssued.class)).isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.getMessage()).contains(why);
                });
    }

    static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** A workload's CSR as an agent makes it: the SPIFFE ID as URI SAN, DNS names, and (to be refused) CA:true. */
    static String csr(KeyPair key, String spiffeId, List<String> dns, boolean ca) throws Exception {
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId));
        dns.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
        if (ca) {
            ext.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        }
        byte[] der = new JcaPKCS10CertificationRequestBuilder(new X500Name("O=workload"), key.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())).getEncoded();
        return Base64.getEncoder().encodeToString(der);
    }

    private static byte[] concat(List<X509Certificate> chain) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (X509Certificate c : chain) {
            out.write(c.getEncoded());
        }
        return out.toByteArray();
    }

    private static boolean nodeSvid(AgentConfig config, String deviceId) {
        try {
            return ("spiffe://outpost.test/agent/tpm/" + deviceId).equals(SiteHarness.identity(config).spiffeId());
        } catch (java.io.IOException | NullPointerException e) {
            return false;
        }
    }

    static String state(SiteHarness site, String deviceId) {
        try {
            JsonNode d = JSON.readTree(new AdminClient(site.adminSocket()).get("/v1/devices/" + deviceId).body());
            return d.path("state").asText();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** openssl as the second implementation of path validation. */
    static final class SiteCaOpenssl {
        static void verify(Path bundle, Path leafChain) throws Exception {
            Process p = new ProcessBuilder(Tools.require("openssl").toString(), "verify", "-CAfile", bundle.toString(),
                    "-purpose", "sslclient", leafChain.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains(": OK");
        }
    }
}
