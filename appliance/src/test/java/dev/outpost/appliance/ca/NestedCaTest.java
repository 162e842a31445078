package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.Set;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.tpm.keys.Pem;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.x509svid.X509SvidValidator;
import dev.outpost.spiffe.KeyFiles;

/**
 * The nested mode's file layout works today: a site CA whose certificate is an intermediate signed by an
 * upstream root (ca.crt = intermediate then root) issues SVIDs that carry the intermediate and verify against
 * a bundle holding only the root.
 */
class NestedCaTest {
    static final String TD = "corp.example";
    static final String DEVICE = "cd".repeat(32);

    @TempDir
    Path dir;

    @Test
    void intermediateSignedByUpstreamIssuesVerifiableSvids() throws Exception {
        Path upstreamDir = dir.resolve("upstream");
        SiteCa upstream = SiteCa.loadOrCreate(upstreamDir, TD, "central", Duration.ofDays(30), Clock.systemUTC());
        PrivateKey upstreamKey = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
                Pem.decode(Files.readString(upstreamDir.resolve("ca.key")), "PRIVATE KEY")));

        KeyPair siteKey = SiteCaTest.ecKey();
        X509Certificate intermediate = intermediate(upstream.certificate(), upstreamKey, siteKey, TD);
        Path siteDir = Files.createDirectories(dir.resolve("site"));
        KeyFiles.writePrivate(siteDir.resolve("ca.key"),
                Pem.encode("PRIVATE KEY", siteKey.getPrivate().getEncoded()).getBytes(StandardCharsets.US_ASCII));
        Files.writeString(siteDir.resolve("ca.crt"), Pem.certificate(intermediate) + Pem.certificate(upstream.certificate()));

        SiteCa site = SiteCa.loadOrCreate(siteDir, TD, "plant", Duration.ofDays(1), Clock.systemUTC());
        assertThat(site.chain()).containsExactly(intermediate, upstream.certificate());
        assertThat(site.trustAnchors()).containsExactly(upstream.certificate());
        assertThat(TrustBundle.of(site).authorities()).containsExactly(upstream.certificate());

        IssuedSvid svid = site.issueNodeSvid(SiteCaTest.ecKey().getPublic(), DEVICE, Duration.ofHours(1));
        assertThat(svid.chain()).containsExactly(svid.certificate(), intermediate);
        X509SvidValidator.verifyChain(svid.chain(), new X509Bundle(TrustDomain.parse(TD), Set.of(upstream.certificate())));

        Path root = dir.resolve("root.pem");
        Files.writeString(root, Pem.certificate(upstream.certificate()));
        Path inter = dir.resolve("inter.pem");
        Files.writeString(inter, Pem.certificate(intermediate));
        Path leaf = dir.resolve("leaf.pem");
        Files.writeString(leaf, Pem.certificate(svid.certificate()));
        SiteCaTest.Result r = SiteCaTest.run("openssl", "verify", "-CAfile", root.toString(), "-untrusted", inter.toString(), leaf.toString());
        assertThat(r.code()).as(r.out()).isZero();
    }

    @Test
    void aChainWhoseLinksDoNotSignEachOtherIsRefused() throws Exception {
        SiteCa a = SiteCa.loadOrCreate(dir.resolve("a"), TD, "a", Duration.ofDays(3), Clock.systemUTC());
        SiteCa b = SiteCa.loadOrCreate(dir.resolve("b"), TD, "b", Duration.ofDays(3), Clock.systemUTC());
        Files.writeString(dir.resolve("a/ca.crt"), Pem.certificate(a.certificate()) + Pem.certificate(b.certificate()));
        assertThatThrownBy(() -> SiteCa.loadOrCreate(dir.resolve("a"), TD, "a", Duration.ofDays(3), Clock.systemUTC()))
                .isInstanceOf(CaException.class).hasMessageContaining("certificate 1 is not signed by certificate 2");
    }

    @Test
    void anExpiredCaLoadsButIssuesNothing() {
        // Loading must not fail: the appliance then starts (not ready, "ca expired"), keeps every device's state, and
        // an installed CA lets them resume. Issuing is what is refused.
        Instant t = Instant.parse("2030-01-01T00:00:00Z");
        SiteCa.loadOrCreate(dir, TD, "a", Duration.ofHours(1), Clock.fixed(t, ZoneOffset.UTC));
        SiteCa expired = SiteCa.loadOrCreate(dir, TD, "a", Duration.ofHours(1),
                Clock.fixed(t.plusSeconds(7200), ZoneOffset.UTC));
        assertThat(expired.expired()).isTrue();
        assertThatThrownBy(() -> expired.issueNodeSvid(SiteCaTest.ecKey().getPublic(), DEVICE, Duration.ofMinutes(5)))
                .isInstanceOf(CaException.class).hasMessageContaining("ca expired: the site CA expired at 2030-01-01T01:00:00Z");
    }

    static X509Certificate intermediate(X509Certificate issuer, PrivateKey issuerKey, KeyPair subject, String td) throws Exception {
        Instant now = Instant.now();
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        var b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minusSeconds(30)),
                Date.from(now.plus(Duration.ofDays(2))), new X500Name("O=Outpost, CN=Outpost site CA plant"), subject.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subject.getPublic()));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuer.getPublicKey()));
        b.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + td)));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

}
