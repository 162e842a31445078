package dev.outpost.agent.trust;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.Map;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.trust.BundleFollower.Outcome;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.SiteBundle;
import dev.outpost.tpm.keys.Pem;

class BundleFollowerTest {
    @TempDir
    Path dir;

    private final Codec codec = new Codec(SiteBundle.LIMITS);

    @Test
    void takesANewerBundleAndItsFederatedTrustDomainsAndNothingOlder() throws Exception {
        AgentState state = new AgentState(dir);
        BundleFollower f = new BundleFollower(state, "site.example");
        String siteRoot = pem(cert("site root", true));
        String partnerRoot = pem(cert("partner root", true));

        assertThat(f.accept(encode(new SiteBundle(1, "site.example", 3, siteRoot, Map.of("partner.example", partnerRoot)))))
                .isEqualTo(Outcome.APPLIED);
        assertThat(state.bundleSequence()).isEqualTo(3);
        assertThat(state.bundle().orElseThrow()).hasSize(1);
        assertThat(state.federatedBundles()).containsOnlyKeys("partner.example");

        String otherRoot = pem(cert("rotated root", true));
        // an old retained copy, or the same one again on reconnection: trust stays
        assertThat(f.accept(encode(SiteBundle.of("site.example", 3, otherRoot)))).isEqualTo(Outcome.NOT_NEWER);
        assertThat(f.accept(encode(SiteBundle.of("site.example", 2, otherRoot)))).isEqualTo(Outcome.NOT_NEWER);
        assertThat(Files.readString(state.bundleFile())).isEqualTo(siteRoot);

        // federation ended: its anchors go with the next bundle
        assertThat(f.accept(encode(SiteBundle.of("site.example", 4, siteRoot + otherRoot)))).isEqualTo(Outcome.APPLIED);
        assertThat(state.bundle().orElseThrow()).hasSize(2);
        assertThat(state.federatedBundles()).isEmpty();
    }

    @Test
    void jwtAuthoritiesAreKeptWithTheBundleAndTheWorkloadApiIsTold() throws Exception {
        AgentState state = new AgentState(dir);
        int[] told = {0};
        BundleFollower f = new BundleFollower(state, "site.example", () -> told[0]++);
        String root = pem(cert("site root", true));
        String jwks = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\"}]}";
        assertThat(f.accept(encode(new SiteBundle(1, "site.example", 1, root, Map.of(), Map.of("site.example", jwks)))))
                .isEqualTo(Outcome.APPLIED);
        assertThat(state.jwtAuthorities()).containsExactly(Map.entry("site.example", jwks));
        assertThat(told[0]).isEqualTo(1);
        assertThat(f.accept(encode(SiteBundle.of("site.example", 1, root)))).isEqualTo(Outcome.NOT_NEWER);
        assertThat(told[0]).isEqualTo(1);
        // A bundle without JWT authorities takes them away.
        assertThat(f.accept(encode(SiteBundle.of("site.example", 2, root)))).isEqualTo(Outcome.APPLIED);
        assertThat(state.jwtAuthorities()).isEmpty();
        assertThat(told[0]).isEqualTo(2);
    }

    @Test
    void refusesWhatIsNotATrustBundleOfOurTrustDomainAndKeepsTheOldOne() throws Exception {
        AgentState state = new AgentState(dir);
        BundleFollower f = new BundleFollower(state, "site.example");
        String root = pem(cert("site root", true));
        assertThat(f.accept(encode(SiteBundle.of("site.example", 1, root)))).isEqualTo(Outcome.APPLIED);

        String leaf = pem(cert("a leaf", false));
        assertThat(f.accept(encode(SiteBundle.of("other.example", 9, root)))).isEqualTo(Outcome.REFUSED);
        assertThat(f.accept(encode(SiteBundle.of("site.example", 9, leaf)))).isEqualTo(Outcome.REFUSED);
        assertThat(f.accept(encode(SiteBundle.of("site.example", 9, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))))
                .isEqualTo(Outcome.REFUSED);
        assertThat(f.accept("{\"v\":1,\"trustDomain\":\"site.example\",\"sequence\":9,\"x509Authorities\":\"\",\"federated\":{}}"
                .getBytes(StandardCharsets.US_ASCII))).isEqualTo(Outcome.REFUSED);
        assertThat(f.accept("{\"v\":1,\"trustDomain\":\"site.example\",\"sequence\":9,\"x509Authorities\":\"x\",\"extra\":1}"
                .getBytes(StandardCharsets.US_ASCII))).isEqualTo(Outcome.REFUSED);
        assertThat(f.accept("not json".getBytes(StandardCharsets.US_ASCII))).isEqualTo(Outcome.REFUSED);
        assertThat(f.accept(new byte[SiteBundle.LIMITS.maxPayloadBytes() + 1])).isEqualTo(Outcome.REFUSED);

        assertThat(state.bundleSequence()).isEqualTo(1);
        assertThat(Files.readString(state.bundleFile())).isEqualTo(root);
    }

    @Test
    void trustDomainOfASpiffeId() {
        assertThat(BundleFollower.trustDomainOf("spiffe://site.example/agent/tpm/ab")).isEqualTo("site.example");
    }

    private byte[] encode(SiteBundle b) {
        return codec.encode(b);
    }

    private static String pem(X509Certificate c) throws Exception {
        return Pem.encode("CERTIFICATE", c.getEncoded());
    }

    private static X509Certificate cert(String cn, boolean ca) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair k = g.generateKeyPair();
        X500Name name = new X500Name("CN=" + cn);
        Instant now = Instant.now();
        var b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minusSeconds(60)),
                Date.from(now.plusSeconds(3600)), name, k.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(k.getPrivate())));
    }
}
