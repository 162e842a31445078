package dev.outpost.appliance.ca;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.X509Certs;
import dev.outpost.spiffe.KeyPolicy;

/**
 * The site's certificate authority: one signing key and the chain that certifies it.
 *
 * <p>Today the CA is a self-signed root ({@code chain()} is one certificate). The nested mode (an intermediate
 * signed by the central trust domain) keeps the same shape: {@code ca.crt} then holds our certificate followed
 * by the upstream chain, {@link #chain()} returns them in that order, and issued SVIDs carry the intermediates.
 *
 * <p>Thread-safe. The signing authority is swapped whole by {@link #activate} (rotation, {@code ca install}), so
 * every service holding this object issues from the new CA at once. Signing is small crypto, fine on an event loop;
 * {@link #loadOrCreate} and {@link #load} do file I/O and key generation and belong on a worker.
 */
public final class SiteCa {
    private static final Logger LOG = LoggerFactory.getLogger(SiteCa.class);
    public static final String KEY_FILE = "ca.key";
    public static final String CERT_FILE = "ca.crt";
    /** Clock skew between us and devices: certificates start this long before they are made. */
    public static final Duration BACKDATE = Duration.ofSeconds(30);

    public static final String UPSTREAM_ROOTS_FILE = "upstream-roots.pem";

    /**
     * One signing key with what certifies it: swapped whole, so a signature and the chain sent with it always
     * belong together.
     *
     * @param upstreamRoots the roots above a nested CA ({@code upstream-roots.pem}); empty for a self-signed CA
     */
    private record Authority(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> upstreamRoots,
                             byte[] caKeyId) {
    }

    private volatile Authority active;
    /** Authorities devices must trust besides ours: the next CA's root before it signs, the last one's after. */
    private volatile List<X509Certificate> alongside = List.of();
    /** Roots of trust domains central federates with: devices verify those peers with them. */
    private volatile java.util.Map<String, List<X509Certificate>> federated = java.util.Map.of();
    private final String trustDomain;
    private final Clock clock;
    private final SecureRandom random;

    SiteCa(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> upstreamRoots, String trustDomain,
            Clock clock, SecureRandom random) {
        this.active = new Authority(key, List.copyOf(chain), List.copyOf(upstreamRoots), keyId(chain.get(0)));
        this.trustDomain = trustDomain;
        this.clock = clock;
        this.random = random;
    }

    /**
     * Makes {@code next} this CA's signing authority: everything that holds this object (enrollment, attestation,
     * revocations, the admin API) issues from it at once. Rotation and {@code ca install} call this after the files
     * on disk say the same, so a restart loads what was running.
     */
    public void activate(SiteCa next) {
        if (!next.trustDomain.equals(trustDomain)) {
            throw new CaException("the new CA is for trust domain '" + next.trustDomain + "', this site is '" + trustDomain + "'");
        }
        Authority was = active;
        active = next.active;
        LOG.info("site CA now {} (valid until {}), was {}", next.certificate().getSubjectX500Principal(),
                next.notAfter(), was.chain().get(0).getNotAfter().toInstant());
    }

    /**
     * Authorities to publish with ours (see {@link #trustAnchors()}): set by rotation, so everything that hands out
     * the bundle hands out the same one.
     */
    public void publishAlongside(List<X509Certificate> others) {
        this.alongside = List.copyOf(others);
    }

    /**
     * Roots of federated trust domains (from central's site bundle), handed to devices per trust domain in the site
     * bundle message; never mixed into {@link #trustAnchors()}, which verify our own trust domain's SVIDs.
     */
    public void publishFederated(java.util.Map<String, List<X509Certificate>> byTrustDomain) {
        java.util.Map<String, List<X509Certificate>> copy = new java.util.TreeMap<>();
        byTrustDomain.forEach((td, roots) -> copy.put(td, List.copyOf(roots)));
        this.federated = java.util.Collections.unmodifiableMap(copy);
    }

    /** Federated trust domain → its roots, as last published. */
    public java.util.Map<String, List<X509Certificate>> federated() {
        return federated;
    }

    /**
     * Loads the CA from {@code caDir}, or makes a new self-signed one there when neither file exists. A lone
     * key or lone certificate is an error, never a reason to start over: silently replacing a CA would cut off
     * every device that trusts the old one.
     */
    public static SiteCa loadOrCreate(Path caDir, String trustDomain, String siteName, Duration caTtl, Clock clock) {
        return SiteCaFiles.loadOrCreate(caDir, CaKeys.file(), trustDomain, siteName, caTtl, clock);
    }

    /** As {@link #loadOrCreate(Path, String, String, Duration, Clock)}, the key kept as {@code keys} says. */
    public static SiteCa loadOrCreate(Path caDir, CaKeys keys, String trustDomain, String siteName, Duration caTtl,
            Clock clock) {
        return SiteCaFiles.loadOrCreate(caDir, keys, trustDomain, siteName, caTtl, clock);
    }

    /**
     * Loads the CA a nested site installed ({@code ca install} or the upstream link). Unlike
     * {@link #loadOrCreate} it never makes one: a nested CA that is missing is the operator's (or central's) to
     * provide. An expired CA loads (see {@link #expired()}).
     */
    public static SiteCa load(Path caDir, String trustDomain, Clock clock) {
        return SiteCaFiles.load(caDir, CaKeys.file(), trustDomain, clock);
    }

    /** As {@link #load(Path, String, Clock)}, the key kept as {@code keys} says (unsealed here when sealed). */
    public static SiteCa load(Path caDir, CaKeys keys, String trustDomain, Clock clock) {
        return SiteCaFiles.load(caDir, keys, trustDomain, clock);
    }

    /**
     * A new self-signed CA certificate for {@code key} (standalone rotation: the next root), not written anywhere.
     */
    public static X509Certificate selfSign(KeyPair pair, String trustDomain, String siteName, Duration caTtl, Clock clock)
            throws GeneralSecurityException {
        SecureRandom random = new SecureRandom();
        Instant now = clock.instant();
        X500Name subject = subject(siteName);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            SubjectKeyIdentifier ski = ext.createSubjectKeyIdentifier(pair.getPublic());
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, X509Certs.randomSerial(random),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(caTtl)), subject, pair.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ski);
            b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(ski.getKeyIdentifier()));
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier,
                            SpiffeId.ofTrustDomain(trustDomain).toString())));
            return sign(b, pair.getPrivate());
        } catch (IOException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /** The site CA's subject, the same whoever signs it: O=Outpost, CN=Outpost site CA &lt;site&gt;. */
    public static X500Name subject(String siteName) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "Outpost")
                .addRDN(BCStyle.CN, "Outpost site CA " + siteName)
                .build();
    }

    /** Whether the CA may issue now; an expired CA is kept (devices' state depends on nothing in it) until replaced. */
    public boolean expired() {
        return !clock.instant().isBefore(notAfter());
    }

    /** Issues a node X509-SVID {@code spiffe://<td>/agent/tpm/<deviceId>} for a key the caller already vetted. */
    public IssuedSvid issueNodeSvid(PublicKey subjectKey, String deviceId, Duration ttl) {
        return issueSvid(subjectKey, deviceId, ttl, false);
    }

    /** The probationary X509-SVID of a device that enrolled and has not passed attestation yet. */
    public IssuedSvid issueEnrollingSvid(PublicKey subjectKey, String deviceId, Duration ttl) {
        return issueSvid(subjectKey, deviceId, ttl, true);
    }

    private IssuedSvid issueSvid(PublicKey subjectKey, String deviceId, Duration ttl, boolean enrolling) {
        if (!DeviceId.isValid(deviceId)) {
            throw new IllegalArgumentException("device id must be 64 lowercase hex characters");
        }
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("SVID ttl must be positive, got " + ttl);
        }
        String weak = KeyPolicy.rejection(subjectKey);
        if (weak != null) {
            throw new IllegalArgumentException("subject key refused: " + weak);
        }
        SpiffeId id = enrolling ? SpiffeId.enrollingId(trustDomain, deviceId) : SpiffeId.nodeId(trustDomain, deviceId);
        Authority a = active;
        Instant now = clock.instant();
        Instant caEnd = a.chain().get(0).getNotAfter().toInstant();
        if (!now.isBefore(caEnd)) {
            throw new CaException("ca expired: the site CA expired at " + caEnd + "; no identity can be issued until "
                    + "a new CA is installed (outpost-appliance ca csr / ca install)");
        }
        // X.509 times have second precision; truncating here keeps the record equal to the certificate.
        Instant notBefore = now.minus(BACKDATE).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        Instant wanted = now.plus(ttl);
        Instant notAfter = (wanted.isAfter(caEnd) ? caEnd : wanted).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        BigInteger serial = X509Certs.randomSerial(random);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "Outpost")
                .addRDN(BCStyle.CN, deviceId)
                .build();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(a.chain().get(0), serial,
                    Date.from(notBefore), Date.from(notAfter), subject, subjectKey);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
            b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(a.caKeyId()));
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.toString())));
            X509Certificate leaf = sign(b, a.key());
            List<X509Certificate> svidChain = new ArrayList<>();
            svidChain.add(leaf);
            for (X509Certificate c : a.chain()) {
                if (!X509Certs.isSelfSigned(c)) {
                    svidChain.add(c);
                }
            }
            return new IssuedSvid(leaf, svidChain, serial, notBefore, notAfter, id);
        } catch (GeneralSecurityException | IOException e) {
            throw new CaException("cannot issue SVID for " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * The TLS certificate of the appliance's own MQTT endpoint (or of the site broker): serverAuth only, the given
     * DNS names and IP addresses, no SPIFFE ID (devices authenticate the site by its CA; it is not a workload).
     */
    public X509Certificate issueServerCertificate(PublicKey subjectKey, List<String> names, Duration ttl) {
        List<GeneralName> sans = new ArrayList<>();
        for (String n : new java.util.LinkedHashSet<>(names)) {
            boolean ip = n.matches("[0-9.]+") || n.contains(":");
            sans.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, n));
        }
        return issueTls(subjectKey, "outpost-appliance " + trustDomain, sans, KeyPurposeId.id_kp_serverAuth, ttl);
    }

    /** The SPIFFE ID of the site's bundle endpoint (SPIFFE Federation, https_spiffe profile). */
    public static String bundleEndpointId(String trustDomain) {
        return "spiffe://" + trustDomain + "/outpost/bundle-endpoint";
    }

    /**
     * The X509-SVID the site's bundle endpoint presents in the https_spiffe profile: serverAuth, the one URI SAN
     * {@link #bundleEndpointId}, so a federating peer checks it against the bundle it already holds.
     */
    public X509Certificate issueBundleEndpointSvid(PublicKey subjectKey, Duration ttl) {
        return issueTls(subjectKey, "outpost bundle endpoint " + trustDomain,
                List.of(new GeneralName(GeneralName.uniformResourceIdentifier, bundleEndpointId(trustDomain))),
                KeyPurposeId.id_kp_serverAuth, ttl);
    }

    /**
     * A TLS client certificate with a fixed common name, for the appliance's own connection to the site broker
     * (whose ACL names it by CN). It carries no URI SAN, so it can never pass as a device's SVID.
     */
    public X509Certificate issueClientCertificate(PublicKey subjectKey, String commonName, Duration ttl) {
        return issueTls(subjectKey, commonName, List.of(), KeyPurposeId.id_kp_clientAuth, ttl);
    }

    private X509Certificate issueTls(PublicKey subjectKey, String cn, List<GeneralName> sans, KeyPurposeId purpose,
            Duration ttl) {
        String weak = KeyPolicy.rejection(subjectKey);
        if (weak != null) {
            throw new IllegalArgumentException("key refused: " + weak);
        }
        Authority a = active;
        Instant now = clock.instant();
        Instant caEnd = a.chain().get(0).getNotAfter().toInstant();
        Instant notBefore = now.minus(BACKDATE).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        Instant wanted = now.plus(ttl);
        Instant notAfter = (wanted.isAfter(caEnd) ? caEnd : wanted).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Outpost").addRDN(BCStyle.CN, cn).build();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(a.chain().get(0), X509Certs.randomSerial(random),
                    Date.from(notBefore), Date.from(notAfter), subject, subjectKey);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
            b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(a.caKeyId()));
            if (!sans.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
            }
            return sign(b, a.key());
        } catch (GeneralSecurityException | IOException e) {
            throw new CaException("cannot issue a TLS certificate for " + cn + ": " + e.getMessage(), e);
        }
    }

    /**
     * Signs site statements (revocation events) with the CA key, SHA256withECDSA: devices and peers already
     * trust this key, so they can check an event without another key to distribute.
     */
    public byte[] sign(byte[] statement) {
        try {
            org.bouncycastle.operator.ContentSigner s = CertificateSigner.of(active.key());
            s.getOutputStream().write(statement);
            return s.getSignature();
        } catch (org.bouncycastle.operator.OperatorCreationException | java.io.IOException e) {
            throw new CaException("cannot sign: " + e.getMessage(), e);
        }
    }

    public X509Certificate certificate() {
        return active.chain().get(0);
    }

    /** Our certificate first, then whatever certifies it up to (and including, if present) the root. */
    public List<X509Certificate> chain() {
        return active.chain();
    }

    /**
     * Our certificate and the intermediates above it, never a root: what an SVID or a TLS server certificate carries
     * so that a peer holding only the roots can build the path.
     */
    public List<X509Certificate> intermediates() {
        return active.chain().stream().filter(c -> !X509Certs.isSelfSigned(c)).toList();
    }

    /** The roots that certify the active CA alone (no rotation extras). */
    public List<X509Certificate> ownAnchors() {
        Authority a = active;
        List<X509Certificate> roots = new ArrayList<>();
        for (X509Certificate c : a.chain()) {
            if (X509Certs.isSelfSigned(c)) {
                roots.add(c);
            }
        }
        roots.addAll(a.upstreamRoots());
        return distinct(roots);
    }

    /**
     * The roots a peer must trust to verify our SVIDs: what goes into the trust bundle. A self-signed CA is its own
     * root; a nested CA's are the upstream roots. During rotation also the next CA's roots (published before it
     * signs anything) and the previous CA's (until the last SVID it signed has expired).
     */
    public List<X509Certificate> trustAnchors() {
        List<X509Certificate> roots = new ArrayList<>(ownAnchors());
        roots.addAll(alongside);
        return distinct(roots);
    }

    static List<X509Certificate> distinct(List<X509Certificate> certs) {
        java.util.LinkedHashMap<String, X509Certificate> seen = new java.util.LinkedHashMap<>();
        for (X509Certificate c : certs) {
            try {
                seen.putIfAbsent(java.util.HexFormat.of().formatHex(c.getEncoded()), c);
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new CaException("unencodable certificate: " + e.getMessage(), e);
            }
        }
        return List.copyOf(seen.values());
    }

    /** The active signing key, its chain and key id, read together (rotation swaps them whole): for issuers in this package. */
    Signing signing() {
        Authority a = active;
        return new Signing(a.key(), a.chain(), a.caKeyId(), random);
    }

    record Signing(PrivateKey key, List<X509Certificate> chain, byte[] caKeyId, SecureRandom random) {
    }

    /** The active CA's private key: for the CA directory's own checks (does a certificate belong to it), never exported. */
    PrivateKey privateKey() {
        return active.key();
    }

    public String trustDomain() {
        return trustDomain;
    }

    public Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(CertificateSigner.of(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    static String trustDomainOf(X509Certificate cert) throws CertificateParsingException {
        Collection<List<?>> sans = cert.getSubjectAlternativeNames();
        String found = null;
        if (sans != null) {
            for (List<?> san : sans) {
                if (Integer.valueOf(GeneralName.uniformResourceIdentifier).equals(san.get(0))) {
                    if (found != null) {
                        throw new CaException("CA certificate carries more than one URI SAN");
                    }
                    found = SpiffeId.parse((String) san.get(1)).trustDomain();
                }
            }
        }
        if (found == null) {
            throw new CaException("CA certificate carries no spiffe:// URI SAN");
        }
        return found;
    }

    private static byte[] keyId(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ext != null) {
            return SubjectKeyIdentifier.getInstance(
                    org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier();
        }
        try {
            return new JcaX509ExtensionUtils().createSubjectKeyIdentifier(cert.getPublicKey()).getKeyIdentifier();
        } catch (GeneralSecurityException e) {
            throw new CaException("cannot compute the CA key identifier: " + e.getMessage(), e);
        }
    }
}
