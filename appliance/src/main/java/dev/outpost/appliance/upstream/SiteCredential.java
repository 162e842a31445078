package dev.outpost.appliance.upstream;

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
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import dev.outpost.spiffe.KeyFiles;
import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.tpm.keys.Pem;

/**
 * The site credential ({@code <dataDir>/upstream/site.key}, {@code site.crt}): the client certificate central issued at
 * join time, SPIFFE ID {@code spiffe://<td>/outpost/site/<name>}. It authenticates the site on the site API; it is not
 * the site CA. Blocking file I/O.
 */
public final class SiteCredential {
    public static final String KEY_FILE = "site.key";
    public static final String CERT_FILE = "site.crt";
    public static final String JOIN_KEY_FILE = "join.key";
    private static final int MAX_BYTES = 64 * 1024;

    private final Path dir;

    public SiteCredential(Path dir) {
        this.dir = dir;
    }

    /** A key and its chain as held on disk. */
    public record Held(PrivateKey key, List<X509Certificate> chain) {
        public X509Certificate certificate() {
            return chain.get(0);
        }

        /** SPIRE's rule for its own SVIDs, applied to ours: renew past half the lifetime. */
        public boolean dueForRenewal(Instant now) {
            Instant nb = certificate().getNotBefore().toInstant();
            Instant na = certificate().getNotAfter().toInstant();
            return !now.isBefore(na.minus(Duration.between(nb, na).dividedBy(2)));
        }
    }

    public Optional<Held> load() throws IOException, GeneralSecurityException {
        Path k = dir.resolve(KEY_FILE);
        Path c = dir.resolve(CERT_FILE);
        if (!Files.exists(k) || !Files.exists(c)) {
            return Optional.empty();
        }
        List<byte[]> keys = PemIo.blocks(new String(KeyFiles.readPrivate(k, MAX_BYTES), StandardCharsets.US_ASCII),
                "PRIVATE KEY", 1);
        if (keys.isEmpty()) {
            throw new GeneralSecurityException(k + " holds no PKCS#8 key");
        }
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(keys.get(0)));
        List<X509Certificate> chain = PemIo.certificates(new String(KeyFiles.readLimited(c, MAX_BYTES),
                StandardCharsets.US_ASCII), 8);
        if (chain.isEmpty()) {
            throw new GeneralSecurityException(c + " holds no certificate");
        }
        return Optional.of(new Held(key, chain));
    }

    /**
     * The key a join sends, the same for every attempt until one succeeds: if central's answer is lost, the repeat
     * with this key gets a credential again instead of "already joined" (central answers a repeated join only for
     * the key of the first). Kept 0600 beside the credential and removed once the credential is stored.
     */
    public KeyPair joinKey() throws IOException, GeneralSecurityException {
        Path f = dir.resolve(JOIN_KEY_FILE);
        if (Files.exists(f)) {
            List<byte[]> keys = PemIo.blocks(new String(KeyFiles.readPrivate(f, MAX_BYTES), StandardCharsets.US_ASCII),
                    "PRIVATE KEY", 1);
            if (keys.size() == 1) {
                PrivateKey priv = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(keys.get(0)));
                return new KeyPair(publicOf((java.security.interfaces.ECPrivateKey) priv), priv);
            }
            throw new GeneralSecurityException(f + " holds no PKCS#8 key: remove it to join with a new key");
        }
        KeyPair k = newKey();
        Files.createDirectories(dir);
        KeyFiles.writePrivate(f, Pem.encode("PRIVATE KEY", k.getPrivate().getEncoded()).getBytes(StandardCharsets.US_ASCII));
        return k;
    }

    /** Once the join's credential is stored, its pending key is no longer needed. */
    public void joined() throws IOException {
        Files.deleteIfExists(dir.resolve(JOIN_KEY_FILE));
    }

    private static java.security.PublicKey publicOf(java.security.interfaces.ECPrivateKey priv) throws GeneralSecurityException {
        org.bouncycastle.jce.spec.ECParameterSpec spec = org.bouncycastle.jce.ECNamedCurveTable.getParameterSpec("secp256r1");
        org.bouncycastle.math.ec.ECPoint q = spec.getG().multiply(priv.getS()).normalize();
        java.security.spec.ECPoint w = new java.security.spec.ECPoint(q.getAffineXCoord().toBigInteger(),
                q.getAffineYCoord().toBigInteger());
        return KeyFactory.getInstance("EC").generatePublic(new java.security.spec.ECPublicKeySpec(w, priv.getParams()));
    }

    /** A new key pair for the credential (join or renewal); written only with the certificate central returns. */
    public static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** The CSR for the credential: central takes only the public key from it (and checks possession). */
    public static String csr(KeyPair key, String site) throws GeneralSecurityException {
        try {
            return Pem.encode("CERTIFICATE REQUEST", new JcaPKCS10CertificationRequestBuilder(
                    new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Outpost")
                            .addRDN(BCStyle.CN, "Outpost site " + site).build(), key.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())).getEncoded());
        } catch (IOException | OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /**
     * Checks what central returned (our key, the SPIFFE ID of this site, clientAuth, in date) and stores it, key
     * first. Anything else is refused before a byte is written.
     */
    public Held store(KeyPair key, List<X509Certificate> chain, String trustDomain, String site, Instant now)
            throws IOException, GeneralSecurityException, UpstreamException {
        if (chain.isEmpty() || !chain.get(0).getPublicKey().equals(key.getPublic())) {
            throw new UpstreamException(0, null, "central's credential is not for the key we sent");
        }
        X509Certificate leaf = chain.get(0);
        String want = SpiffeId.ofTrustDomain(trustDomain) + "/outpost/site/" + site;
        boolean named = false;
        if (leaf.getSubjectAlternativeNames() != null) {
            for (List<?> san : leaf.getSubjectAlternativeNames()) {
                if (Integer.valueOf(6).equals(san.get(0)) && want.equals(san.get(1))) {
                    named = true;
                }
            }
        }
        if (!named) {
            throw new UpstreamException(0, null, "central's credential does not name " + want);
        }
        if (!now.isBefore(leaf.getNotAfter().toInstant())) {
            throw new UpstreamException(0, null, "central's credential expired at " + leaf.getNotAfter().toInstant());
        }
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        KeyFiles.writePrivate(dir.resolve(KEY_FILE), PemIo.ascii(Pem.encode("PRIVATE KEY", key.getPrivate().getEncoded())));
        KeyFiles.writePublic(dir.resolve(CERT_FILE), PemIo.ascii(PemIo.encode(chain)));
        return new Held(key.getPrivate(), List.copyOf(chain));
    }
}
