package dev.outpost.central.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.spiffe.X509Certs;
import dev.outpost.spiffe.KeyFiles;
import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.tpm.keys.Pem;

/**
 * Central's own CA: a self-signed root it makes ({@code ca init}, or at first start), or an intermediate under an
 * offline root that {@code ca import} installs. Files in {@code <dataDir>/ca/}: {@code ca.key} (PKCS#8, 0600) and
 * {@code ca.crt} (our certificate, then the chain above it up to and including the root). Several instances
 * share one CA by being given the same two files; the database records the chain so a mismatch is caught
 * (see {@code app.CaBinding}).
 *
 * <p>Immutable and thread-safe; signing is small crypto. Loading and making do file I/O: workers only.
 */
public final class CentralCa {
    private static final Logger LOG = LoggerFactory.getLogger(CentralCa.class);
    public static final String KEY_FILE = "ca.key";
    public static final String CERT_FILE = "ca.crt";
    public static final Duration ROOT_TTL = Duration.ofDays(3650);
    private static final int MAX_FILE_BYTES = 64 * 1024;
    private static final int MAX_CHAIN = 8;

    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final String trustDomain;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final CertSigner signer;

    private CentralCa(PrivateKey key, List<X509Certificate> chain, String trustDomain, Clock clock) {
        this.key = key;
        this.chain = List.copyOf(chain);
        this.trustDomain = trustDomain;
        this.clock = clock;
        this.signer = new CertSigner(key, chain.get(0), random);
    }

    public static boolean exists(Path caDir) {
        return Files.exists(caDir.resolve(KEY_FILE)) || Files.exists(caDir.resolve(CERT_FILE));
    }

    /** Loads the CA, or makes a self-signed root when there is none. A lone key or certificate is an error. */
    public static CentralCa loadOrCreate(Path caDir, String trustDomain, Clock clock) {
        return exists(caDir) ? load(caDir, trustDomain, clock) : create(caDir, trustDomain, clock);
    }

    public static CentralCa create(Path caDir, String trustDomain, Clock clock) {
        SpiffeId.checkTrustDomain(trustDomain);
        if (exists(caDir)) {
            throw new CaException(caDir + " already holds a CA; refusing to replace it (every site trusts the old one)");
        }
        try {
            mkdirs(caDir);
            KeyPair pair = newKey();
            Instant now = clock.instant();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Outpost")
                    .addRDN(BCStyle.CN, "Outpost central CA " + trustDomain).build();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            SubjectKeyIdentifier ski = ext.createSubjectKeyIdentifier(pair.getPublic());
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, X509Certs.randomSerial(new SecureRandom()),
                    Date.from(now.minus(CertSigner.BACKDATE)), Date.from(now.plus(ROOT_TTL)), subject, pair.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ski);
            b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(ski.getKeyIdentifier()));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, SpiffeId.ofTrustDomain(trustDomain).toString())));
            X509Certificate cert = CertSigner.sign(b, pair.getPrivate());
            write(caDir, pair.getPrivate(), List.of(cert));
            LOG.info("created central root CA for {}, valid until {}", trustDomain, cert.getNotAfter().toInstant());
            return new CentralCa(pair.getPrivate(), List.of(cert), trustDomain, clock);
        } catch (IOException | GeneralSecurityException e) {
            throw new CaException("cannot create the CA in " + caDir + ": " + e.getMessage(), e);
        }
    }

    public static CentralCa load(Path caDir, String trustDomain, Clock clock) {
        Path keyFile = caDir.resolve(KEY_FILE);
        Path certFile = caDir.resolve(CERT_FILE);
        if (!Files.exists(keyFile) || !Files.exists(certFile)) {
            throw new CaException("central CA in " + caDir + " is incomplete (" + (Files.exists(keyFile) ? CERT_FILE : KEY_FILE)
                    + " missing): restore it, or run `outpost-central ca init` on an empty directory");
        }
        try {
            PrivateKey key = readKey(new String(KeyFiles.readPrivate(keyFile, MAX_FILE_BYTES), StandardCharsets.US_ASCII), keyFile.toString());
            List<X509Certificate> chain = PemIo.certificates(
                    new String(KeyFiles.readLimited(certFile, MAX_FILE_BYTES), StandardCharsets.US_ASCII), MAX_CHAIN);
            check(key, chain, trustDomain, clock.instant());
            return new CentralCa(key, chain, trustDomain, clock);
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new CaException("central CA in " + caDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Installs an intermediate signed by an offline root: the certificate, its key, and the chain above it
     * (ending at the root). Checked before anything is written: key matches, certificate is a CA for this trust
     * domain, each certificate signed by the next, the last one self-signed. Replaces any CA in {@code caDir}.
     */
    public static CentralCa importCa(Path caDir, String trustDomain, String certPem, String keyPem, String chainPem, Clock clock) {
        try {
            List<X509Certificate> certs = PemIo.certificates(certPem, 1);
            if (certs.isEmpty()) {
                throw new CaException("--cert holds no PEM certificate");
            }
            List<X509Certificate> chain = new ArrayList<>(certs);
            chain.addAll(PemIo.certificates(chainPem, MAX_CHAIN - 1));
            if (!X509Certs.isSelfSigned(chain.get(chain.size() - 1))) {
                throw new CaException("--chain must end with the (self-signed) root the sites will trust");
            }
            PrivateKey key = readKey(keyPem, "--key");
            check(key, chain, trustDomain, clock.instant());
            mkdirs(caDir);
            write(caDir, key, chain);
            LOG.info("imported central CA {} for {}, valid until {}", chain.get(0).getSubjectX500Principal(), trustDomain,
                    chain.get(0).getNotAfter().toInstant());
            return new CentralCa(key, chain, trustDomain, clock);
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new CaException("ca import: " + e.getMessage(), e);
        }
    }

    private static void check(PrivateKey key, List<X509Certificate> chain, String trustDomain, Instant now)
            throws GeneralSecurityException {
        if (chain.isEmpty()) {
            throw new CaException("no CA certificate");
        }
        X509Certificate cert = chain.get(0);
        if (!Certs.belongTogether(key, cert.getPublicKey())) {
            throw new CaException("the key is not the key of the CA certificate");
        }
        if (cert.getBasicConstraints() < 0) {
            throw new CaException("the certificate is not a CA (basicConstraints cA=false)");
        }
        // A site CA under us is pathLen 0, so we need room for one more CA below.
        if (!X509Certs.isSelfSigned(cert) && cert.getBasicConstraints() < 1) {
            throw new CaException("the intermediate has pathLen " + cert.getBasicConstraints() + "; site CAs below it need at least 1");
        }
        boolean[] usage = cert.getKeyUsage();
        if (usage != null && !usage[5]) {
            throw new CaException("the certificate's key usage lacks keyCertSign");
        }
        String found = Certs.spiffeId(cert).trustDomain();
        if (!trustDomain.equals(found) || !Certs.spiffeId(cert).path().isEmpty()) {
            throw new CaException("the CA certificate names " + Certs.uriSans(cert) + ", not spiffe://" + trustDomain);
        }
        for (int i = 0; i + 1 < chain.size(); i++) {
            try {
                chain.get(i).verify(chain.get(i + 1).getPublicKey());
            } catch (GeneralSecurityException e) {
                throw new CaException("certificate " + (i + 1) + " of the chain is not signed by certificate " + (i + 2));
            }
        }
        if (!now.isBefore(cert.getNotAfter().toInstant())) {
            throw new CaException("the CA certificate expired at " + cert.getNotAfter().toInstant());
        }
    }

    private static PrivateKey readKey(String pem, String where) throws GeneralSecurityException {
        List<byte[]> keys = PemIo.blocks(pem, "PRIVATE KEY", 1);
        if (keys.isEmpty()) {
            throw new CaException(where + " holds no PKCS#8 PEM block (-----BEGIN PRIVATE KEY-----)");
        }
        try {
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(keys.get(0)));
        } catch (GeneralSecurityException e) {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(keys.get(0)));
        }
    }

    private static void write(Path caDir, PrivateKey key, List<X509Certificate> chain) throws IOException {
        // Key first: a crash between the writes leaves a lone key, which load reports, not a certificate without key.
        KeyFiles.writePrivate(caDir.resolve(KEY_FILE), PemIo.ascii(Pem.encode("PRIVATE KEY", key.getEncoded())));
        KeyFiles.writePublic(caDir.resolve(CERT_FILE), PemIo.ascii(PemIo.encode(chain)));
    }

    private static void mkdirs(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"));
        return gen.generateKeyPair();
    }

    /**
     * A site CA for {@code site}: only {@code key} comes from the site. Subject, SAN, constraints and lifetime are
     * central's: CA:true pathLen 0, keyCertSign+cRLSign (critical), URI SAN spiffe://td, lifetime
     * min(requested, maxTtl, our notAfter).
     */
    public X509Certificate signSiteCa(String site, PublicKey siteKey, Duration requested, Duration maxTtl) {
        Duration ttl = requested == null || requested.compareTo(maxTtl) > 0 ? maxTtl : requested;
        return signer.siteCa(site, siteKey, SpiffeId.ofTrustDomain(trustDomain), window(ttl));
    }

    /** The site credential: a clientAuth leaf naming spiffe://td/outpost/site/NAME. */
    public X509Certificate issueSiteCredential(String site, PublicKey siteKey, Duration ttl) {
        return signer.leaf("Outpost site " + site, siteKey, List.of(siteId(trustDomain, site).toString()), List.of(), false, true,
                window(ttl));
    }

    /** The site API's TLS certificate: serverAuth, DNS/IP names. */
    public X509Certificate issueServerCertificate(PublicKey key, List<String> names, Duration ttl) {
        return signer.leaf("outpost-central " + trustDomain, key, List.of(), names, true, false, window(ttl));
    }

    /** The https_spiffe bundle endpoint's X509-SVID: spiffe://td/outpost/bundle-endpoint, serverAuth. */
    public X509Certificate issueBundleEndpointSvid(PublicKey key, Duration ttl) {
        return signer.leaf("outpost-central bundle endpoint", key, List.of(bundleEndpointId(trustDomain).toString()), List.of(),
                true, false, window(ttl));
    }

    public static SpiffeId siteId(String trustDomain, String site) {
        return new SpiffeId(trustDomain, "/outpost/site/" + site);
    }

    public static SpiffeId bundleEndpointId(String trustDomain) {
        return new SpiffeId(trustDomain, "/outpost/bundle-endpoint");
    }

    private CertSigner.Window window(Duration ttl) {
        Instant now = clock.instant();
        // Capped by the earliest end in our chain, not only our own: nothing we sign may outlive a certificate
        // above it (an imported intermediate can outlive its offline root).
        Instant caEnd = chain.stream().map(c -> c.getNotAfter().toInstant()).min(Instant::compareTo).orElseThrow();
        if (!now.isBefore(caEnd)) {
            throw new CaException("central CA chain expired at " + caEnd + ": cannot sign");
        }
        // X.509 times have second precision; truncating keeps the recorded notAfter equal to the certificate's.
        Instant notBefore = now.minus(CertSigner.BACKDATE).truncatedTo(ChronoUnit.SECONDS);
        Instant wanted = now.plus(ttl);
        Instant notAfter = (wanted.isAfter(caEnd) ? caEnd : wanted).truncatedTo(ChronoUnit.SECONDS);
        return new CertSigner.Window(notBefore, notAfter);
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** Our certificate first, then up to and including the root. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** What sites and peers anchor on: the self-signed certificates of the chain (the offline root when imported). */
    public List<X509Certificate> roots() {
        return chain.stream().filter(X509Certs::isSelfSigned).toList();
    }

    /** The certificates between a certificate we sign and the root: our own when we are an intermediate, and above. */
    public List<X509Certificate> intermediates() {
        return chain.stream().filter(c -> !X509Certs.isSelfSigned(c)).toList();
    }

    public String trustDomain() {
        return trustDomain;
    }

    PrivateKey key() {
        return key;
    }
}
