package dev.outpost.agent.workload;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Entries;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.WorkloadEntry;
import dev.outpost.mqtt.protocol.WorkloadJwtIssued;
import dev.outpost.mqtt.protocol.WorkloadJwtRequest;
import dev.outpost.mqtt.protocol.WorkloadSvidIssued;
import dev.outpost.mqtt.protocol.WorkloadSvidRequest;

/**
 * A test double of the appliance's side of the workload kinds (the real one is built in appliance/): a small CA and
 * a JWT key made with Bouncy Castle and JCA, entries set by the test, and switches for "refuses" and "unreachable".
 * It checks what the agent sends as the real appliance would (CSR signature, only the entry's SPIFFE ID).
 */
final class TestAppliance implements WorkloadIssuer {
    static final String TD = "site.test";
    private final Clock clock;
    private final KeyPair caKey;
    final X509Certificate ca;
    private final KeyPair jwtKey;
    final String kid = "k1";
    volatile List<WorkloadEntry> entries = List.of();
    volatile long revision = 1;
    volatile Duration x509Ttl = Duration.ofHours(1);
    volatile ErrorCode refuse;
    volatile boolean away;
    final AtomicInteger svidsIssued = new AtomicInteger();
    final AtomicInteger svidRequests = new AtomicInteger();
    volatile WorkloadSvidRequest lastSvidRequest;
    final AtomicInteger jwtsIssued = new AtomicInteger();

    TestAppliance(Clock clock) throws Exception {
        this.clock = clock;
        this.caKey = ec();
        Instant now = clock.instant();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=test site CA"),
                BigInteger.ONE, Date.from(now.minusSeconds(3600)), Date.from(now.plus(Duration.ofDays(30))),
                new X500Name("CN=test site CA"), caKey.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + TD)));
        this.ca = new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey.getPrivate())));
        this.jwtKey = ec();
    }

    static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static WorkloadEntry entry(String id, String path, List<String> selectors) {
        return new WorkloadEntry(id, "spiffe://" + TD + path, selectors, 3600, 300, List.of(), List.of());
    }

    volatile Map<String, List<X509Certificate>> federated = Map.of();
    volatile long bundleSequence = 1;

    volatile Map<String, String> federatedJwt = Map.of();

    TrustBundles bundles() {
        Map<String, String> jwt = new java.util.HashMap<>(federatedJwt);
        jwt.put(TD, jwks());
        return new TrustBundles(TD, bundleSequence, List.of(ca), federated, jwt);
    }

    String jwks() {
        ECPublicKey p = (ECPublicKey) jwtKey.getPublic();
        return "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"jwt-svid\",\"kid\":\"" + kid + "\",\"x\":\""
                + b64(fixed(p.getW().getAffineX())) + "\",\"y\":\"" + b64(fixed(p.getW().getAffineY())) + "\"}]}";
    }

    private void check() throws IssuerException {
        if (away) {
            throw new IssuerException(null, "no reply within 30 s");
        }
        if (refuse != null) {
            throw new IssuerException(refuse, "refused: " + refuse);
        }
    }

    private WorkloadEntry byId(String id) throws IssuerException {
        return entries.stream().filter(e -> e.id().equals(id)).findFirst()
                .orElseThrow(() -> new IssuerException(ErrorCode.FORBIDDEN, "no such entry for this node"));
    }

    @Override
    public Entries entries(long have) throws IssuerException {
        if (away) {
            throw new IssuerException(null, "no reply");
        }
        return new Entries(1, revision, entries);
    }

    @Override
    public WorkloadSvidIssued svid(WorkloadSvidRequest r) throws IssuerException {
        svidRequests.incrementAndGet();
        check();
        lastSvidRequest = r;
        WorkloadEntry e = byId(r.entryId());
        try {
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(Codec.base64(r.csr(), "csr", 4096));
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(new JcaPKCS10CertificationRequest(csr).getPublicKey()))) {
                throw new IssuerException(ErrorCode.BAD_REQUEST, "CSR signature");
            }
            Extensions ext = Extensions.getInstance(csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0]
                    .getAttrValues().getObjectAt(0));
            GeneralNames sans = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
            List<String> uris = new ArrayList<>();
            for (GeneralName n : sans.getNames()) {
                if (n.getTagNo() == GeneralName.uniformResourceIdentifier) {
                    uris.add(n.getName().toString());
                }
            }
            if (!uris.equals(List.of(e.spiffeId()))) {
                throw new IssuerException(ErrorCode.BAD_REQUEST, "CSR asks for " + uris);
            }
            Instant now = clock.instant();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, new BigInteger(64, new SecureRandom()),
                    Date.from(now.minusSeconds(5)), Date.from(now.plus(x509Ttl)), new X500Name("O=SPIFFE"),
                    new JcaPKCS10CertificationRequest(csr).getPublicKey());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectAlternativeName, false, sans);
            X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey.getPrivate())));
            svidsIssued.incrementAndGet();
            return new WorkloadSvidIssued(1, e.id(), e.spiffeId(), pem(leaf) + pem(ca), leaf.getNotAfter().getTime());
        } catch (IssuerException x) {
            throw x;
        } catch (Exception x) {
            throw new IssuerException(ErrorCode.BAD_REQUEST, x.toString());
        }
    }

    @Override
    public WorkloadJwtIssued jwt(WorkloadJwtRequest r) throws IssuerException {
        check();
        WorkloadEntry e = byId(r.entryId());
        long now = clock.millis() / 1000;
        long exp = now + e.jwtTtlSeconds();
        String aud = r.audience().size() == 1 ? "\"" + r.audience().get(0) + "\""
                : "[\"" + String.join("\",\"", r.audience()) + "\"]";
        String header = b64(("{\"alg\":\"ES256\",\"kid\":\"" + kid + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8));
        String claims = b64(("{\"sub\":\"" + e.spiffeId() + "\",\"aud\":" + aud + ",\"exp\":" + exp + ",\"iat\":" + now
                + ",\"jti\":\"" + jwtsIssued.incrementAndGet() + "\"}").getBytes(StandardCharsets.UTF_8));
        try {
            Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
            s.initSign(jwtKey.getPrivate());
            s.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
            return new WorkloadJwtIssued(1, e.id(), e.spiffeId(), header + "." + claims + "." + b64(s.sign()), exp * 1000);
        } catch (Exception x) {
            throw new IssuerException(ErrorCode.INTERNAL, x.toString());
        }
    }

    static String pem(X509Certificate c) throws Exception {
        java.io.StringWriter w = new java.io.StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(c);
        }
        return w.toString();
    }

    private static byte[] fixed(BigInteger v) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[32];
        int n = Math.min(32, b.length);
        System.arraycopy(b, b.length - n, out, 32 - n, n);
        return out;
    }

    private static String b64(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static byte[] copy(byte[] b) {
        return Arrays.copyOf(b, b.length);
    }
}
