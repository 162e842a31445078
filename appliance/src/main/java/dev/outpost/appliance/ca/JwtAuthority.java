package dev.outpost.appliance.ca;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import dev.outpost.spiffe.KeyFiles;
import dev.outpost.spiffe.SpiffeJwks;

/**
 * The site's JWT authority: a P-256 key that signs JWT-SVIDs (ES256), kept beside the CA key and the same way
 * ({@link CaKeys}: a 0600 file, or sealed to the TPM), and rotated with the CA.
 *
 * <p>Files in the CA directory: {@code jwt.key} (active), {@code next-jwt.key} (made when the next CA is prepared,
 * published at once, signing once that CA is active), {@code jwt-retired.json} (public keys of former authorities
 * with the time until which they stay published: the longest JWT-SVID life after they stopped signing).
 *
 * <p>Thread-safe: the signing key is swapped whole; JWS signing is small crypto, fine on any thread. File work
 * ({@link #loadOrCreate}, {@link #prepareNext}, {@link #activateNext}) belongs on a worker.
 */
public final class JwtAuthority {
    private static final Logger LOG = LoggerFactory.getLogger(JwtAuthority.class);
    public static final String KEY_FILE = "jwt.key";
    public static final String NEXT_KEY_FILE = "next-jwt.key";
    public static final String RETIRED_FILE = "jwt-retired.json";
    private static final int MAX_RETIRED = 16;
    private static final int MAX_RETIRED_BYTES = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One signing key, its public half and its kid. */
    private record Key(PrivateKey key, PublicKey pub, String kid) {
    }

    private record Retired(String kid, PublicKey pub, Instant until) {
    }

    private final Path dir;
    private final CaKeys keys;
    private final Clock clock;
    private volatile Key active;
    private volatile Key next;
    private volatile List<Retired> retired;

    private JwtAuthority(Path dir, CaKeys keys, Clock clock, Key active, Key next, List<Retired> retired) {
        this.dir = dir;
        this.keys = keys;
        this.clock = clock;
        this.active = active;
        this.next = next;
        this.retired = List.copyOf(retired);
    }

    /** Loads the authority from {@code caDir}, making its key there when there is none (a new site, or an older one). */
    public static JwtAuthority loadOrCreate(Path caDir, CaKeys keys, Clock clock) throws IOException, GeneralSecurityException {
        if (!CaKeys.exists(caDir, KEY_FILE)) {
            keys.write(caDir, KEY_FILE, generate());
            LOG.info("made the site JWT authority key {} ({})", caDir.resolve(keys.fileName(KEY_FILE)), keys.describe());
        }
        Key active = key(keys.read(caDir, KEY_FILE));
        Key next = CaKeys.exists(caDir, NEXT_KEY_FILE) ? key(keys.read(caDir, NEXT_KEY_FILE)) : null;
        if (next != null && next.kid().equals(active.kid())) {
            // A switch cut short after the new key became active: finish it.
            CaKeys.delete(caDir, NEXT_KEY_FILE);
            next = null;
        }
        return new JwtAuthority(caDir, keys, clock, active, next, readRetired(caDir.resolve(RETIRED_FILE)));
    }

    /** The kid of the key signing now. */
    public String kid() {
        return active.kid();
    }

    /**
     * Signs a JWT-SVID: {@code sub}, {@code aud}, {@code exp}, {@code iat}, {@code jti}; header {@code alg} ES256,
     * {@code kid}, {@code typ} JWT. Nimbus writes the signature as JWS wants it (r||s, not DER).
     */
    public String sign(String subject, List<String> audience, Instant issuedAt, Instant expiresAt, String jti) {
        Key k = active;
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(subject).audience(audience)
                .issueTime(java.util.Date.from(issuedAt)).expirationTime(java.util.Date.from(expiresAt)).jwtID(jti)
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(k.kid())
                .type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(new ECDSASigner((ECPrivateKey) k.key()));
        } catch (JOSEException e) {
            throw new CaException("cannot sign a JWT-SVID: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    /** Every key to publish now, kid → public key: the active one, the next one, retired ones not yet expired. */
    public Map<String, PublicKey> published() {
        Map<String, PublicKey> out = new LinkedHashMap<>();
        out.put(active.kid(), active.pub());
        Key n = next;
        if (n != null) {
            out.put(n.kid(), n.pub());
        }
        Instant now = clock.instant();
        for (Retired r : retired) {
            if (now.isBefore(r.until())) {
                out.putIfAbsent(r.kid(), r.pub());
            }
        }
        return out;
    }

    /** {@link #published()} as bundle keys ({@code use} jwt-svid). */
    public List<Map<String, Object>> bundleKeys() {
        List<Map<String, Object>> keys = new ArrayList<>();
        published().forEach((kid, pub) -> keys.add(SpiffeJwks.jwtSvidKey(pub, kid)));
        return keys;
    }

    /** {@link #published()} as a JWKS document, what the site bundle message and central get. */
    public String jwks() {
        try {
            return JSON.writeValueAsString(Map.of("keys", bundleKeys()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** With the next CA: makes the next JWT key (once) and publishes it; returns whether it was made now. */
    public synchronized boolean prepareNext() throws IOException, GeneralSecurityException {
        if (next != null) {
            return false;
        }
        PrivateKey k = generate();
        keys.write(dir, NEXT_KEY_FILE, k);
        next = key(k);
        LOG.info("made the next JWT authority key (kid {}); it is published now and signs once the next CA is active",
                next.kid());
        return true;
    }

    /**
     * With the CA switch: the next key signs from now on, the former one stays published for {@code keepFor} (the
     * longest JWT-SVID life). Without a prepared next key (a CA installed by hand) a new key is made. Retired first,
     * then the key, then the next file is removed: a crash at any point leaves every key that signed published.
     */
    public synchronized void activateNext(Duration keepFor) throws IOException, GeneralSecurityException {
        Key incoming = next != null ? next : key(generate());
        Key outgoing = active;
        Instant now = clock.instant();
        List<Retired> kept = new ArrayList<>();
        for (Retired r : retired) {
            if (now.isBefore(r.until())) {
                kept.add(r);
            }
        }
        kept.add(new Retired(outgoing.kid(), outgoing.pub(), now.plus(keepFor)));
        while (kept.size() > MAX_RETIRED) {
            kept.remove(0);
        }
        writeRetired(dir.resolve(RETIRED_FILE), kept);
        retired = List.copyOf(kept);
        keys.write(dir, KEY_FILE, incoming.key());
        active = incoming;
        CaKeys.delete(dir, NEXT_KEY_FILE);
        next = null;
        LOG.info("JWT authority rotated: kid {} signs now, kid {} stays published until {}", incoming.kid(),
                outgoing.kid(), now.plus(keepFor));
    }

    /** Drops retired keys whose last token has expired; returns whether the published set changed. */
    public synchronized boolean prune() throws IOException {
        Instant now = clock.instant();
        List<Retired> kept = retired.stream().filter(r -> now.isBefore(r.until())).toList();
        if (kept.size() == retired.size()) {
            return false;
        }
        writeRetired(dir.resolve(RETIRED_FILE), kept);
        retired = kept;
        return true;
    }

    private static PrivateKey generate() throws GeneralSecurityException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"), new java.security.SecureRandom());
        return gen.generateKeyPair().getPrivate();
    }

    private static Key key(PrivateKey k) throws GeneralSecurityException {
        PublicKey pub = CaCsr.publicOf(k);
        return new Key(k, pub, SpiffeJwks.kidOf(pub));
    }

    private static List<Retired> readRetired(Path file) throws IOException, GeneralSecurityException {
        if (!Files.exists(file)) {
            return List.of();
        }
        JsonNode root = JSON.readTree(KeyFiles.readLimited(file, MAX_RETIRED_BYTES));
        List<Retired> out = new ArrayList<>();
        if (root == null || !root.path("retired").isArray() || root.path("retired").size() > MAX_RETIRED) {
            throw new CaException(file + " is damaged: expected {\"retired\": [...]} with at most " + MAX_RETIRED + " keys");
        }
        for (JsonNode r : root.path("retired")) {
            PublicKey pub = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(
                    Base64.getDecoder().decode(r.path("spki").asText())));
            out.add(new Retired(SpiffeJwks.kidOf(pub), pub, Instant.ofEpochSecond(r.path("until").asLong())));
        }
        return out;
    }

    private static void writeRetired(Path file, List<Retired> list) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Retired r : list) {
            out.add(Map.of("kid", r.kid(), "spki", Base64.getEncoder().encodeToString(r.pub().getEncoded()),
                    "until", r.until().getEpochSecond()));
        }
        KeyFiles.writePublic(file, JSON.writeValueAsBytes(Map.of("retired", out)));
    }
}
