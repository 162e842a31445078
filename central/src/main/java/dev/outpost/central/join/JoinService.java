package dev.outpost.central.join;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.central.issue.Issued;
import dev.outpost.central.issue.SiteIssuer;
import dev.outpost.central.refusal.Refusal;
import dev.outpost.central.refusal.RefusedInTransaction;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.JoinStore;
import dev.outpost.central.store.SiteRecord;
import dev.outpost.central.store.SiteStore;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.credential.EkParameters;
import dev.outpost.tpm.credential.MakeCredential;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.trust.EkTrust;
import dev.outpost.tpm.trust.EkTrustMode;
import dev.outpost.tpm.trust.ManufacturerCas;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;

/**
 * A site gateway joins: by its TPM (the device enrollment's EK trust, AK checks and credential activation, from
 * tpm/), or by a one-time token. Every record lives in the database, so begin and finish may reach different
 * central instances. Blocking (JDBC, RSA): workers only.
 */
public final class JoinService {
    private static final Logger LOG = LoggerFactory.getLogger(JoinService.class);
    private static final int SECRET_BYTES = 32;

    public record Offer(String joinId, byte[] credentialBlob, byte[] encryptedSecret, Instant expiresAt) {
    }

    public record Joined(String site, Issued credential) {
    }

    private final Database db;
    private final SiteIssuer issuer;
    private final EkTrustMode ekTrustMode;
    private final ManufacturerCas ekCas;
    private final Clock clock;
    private final Duration activationTtl;
    private final SecureRandom random = new SecureRandom();
    private final MakeCredential makeCredential = new MakeCredential(random);
    private final SiteStore sites = new SiteStore();
    private final JoinStore joins = new JoinStore();

    public JoinService(Database db, SiteIssuer issuer, EkTrustMode ekTrustMode, ManufacturerCas ekCas, Clock clock,
            Duration activationTtl) {
        this.db = db;
        this.issuer = issuer;
        this.ekTrustMode = ekTrustMode;
        this.ekCas = ekCas;
        this.clock = clock;
        this.activationTtl = activationTtl;
    }

    public Offer beginTpm(String site, byte[] ekPublic, byte[] ekCert, byte[] akPublic) throws Refusal {
        TpmPublic ek = tpmPublic(ekPublic, "ekPublic");
        TpmPublic ak = tpmPublic(akPublic, "akPublic");
        SiteRecord s = joinable(site, "tpm");
        String ekHash = DeviceId.of(ek.publicKey());
        // The allow-list of a site is the one EK hash given to `site add --ek-hash`: an EK on another site's list
        // cannot join this one.
        EkTrust trust = new EkTrust(ekTrustMode, id -> id.equals(s.ekHash()), ekCas, clock);
        EkTrust.Decision d = trust.decide(ekHash, ek, ekCert);
        if (!d.trusted()) {
            throw deny(site, Refusal.forbidden("EK not trusted for site " + site + ": " + d.reason()));
        }
        String akProblem = AttestationKey.attributeProblem(ak);
        if (akProblem != null) {
            throw deny(site, Refusal.badRequest("AK refused: " + akProblem));
        }
        byte[] secret = new byte[SECRET_BYTES];
        random.nextBytes(secret);
        CredentialBlob blob;
        try {
            blob = makeCredential.make(EkParameters.of(ek), ak.name(), secret);
        } catch (IllegalArgumentException e) {
            throw deny(site, Refusal.badRequest("EK unusable for credential activation: " + e.getMessage()));
        }
        byte[] id = new byte[16];
        random.nextBytes(id);
        String joinId = HexFormat.of().formatHex(id);
        Instant expires = clock.instant().plus(activationTtl);
        db.inTransaction(c -> {
            joins.putTpmJoin(c, new JoinStore.TpmJoin(joinId, site, sha256Hex(secret), ekHash,
                    Base64.getEncoder().encodeToString(ak.encodedSized()), expires, false));
            return null;
        });
        LOG.info("site {}: TPM join begun, EK {} trusted by {}, join {} until {}", site, ekHash, d.via(), joinId, expires);
        return new Offer(joinId, blob.idObject(), blob.encryptedSecret(), expires);
    }

    public Joined finishTpm(String joinId, byte[] secret, String csrPem) throws Refusal {
        if (joinId == null || !joinId.matches("[0-9a-f]{32}")) {
            throw Refusal.badRequest("joinId must be the 32 hex characters begin returned");
        }
        // Consumed in its own committed transaction before the answer is judged: single use whatever the outcome.
        Optional<JoinStore.TpmJoin> found = db.inTransaction(c -> joins.consumeTpmJoin(c, joinId));
        if (found.isEmpty()) {
            throw deny(null, Refusal.notFound("no such join " + joinId + ": begin again"));
        }
        JoinStore.TpmJoin j = found.get();
        if (j.consumed()) {
            throw deny(j.site(), Refusal.conflict("join " + joinId + " was already used (replay): begin again"));
        }
        if (!clock.instant().isBefore(j.expiresAt())) {
            throw deny(j.site(), Refusal.forbidden("join " + joinId + " expired at " + j.expiresAt() + ": begin again"));
        }
        if (secret == null || !MessageDigest.isEqual(sha256Hex(secret).getBytes(StandardCharsets.US_ASCII),
                j.secretHash().getBytes(StandardCharsets.US_ASCII))) {
            throw deny(j.site(), Refusal.forbidden("wrong activation secret: the TPM holding the AK under this EK did not answer"));
        }
        PublicKey key = issuer.credentialKey(j.site(), csrPem);
        return join(j.site(), "tpm", j.ekHash(), key, null, java.util.Base64.getDecoder().decode(j.akPublic()));
    }

    public Joined joinByToken(String site, String token, String csrPem) throws Refusal {
        if (token == null || token.isEmpty() || token.length() > 128) {
            throw Refusal.badRequest("token is missing or malformed");
        }
        // The CSR is judged before the token is touched: a bad CSR must not burn the token.
        PublicKey key = issuer.credentialKey(site, csrPem);
        joinable(site, "token");
        return join(site, "token", null, key, token, null);
    }

    private Joined join(String site, String how, String ekHash, PublicKey key, String token, byte[] akPublic)
            throws Refusal {
        Instant now = clock.instant();
        String keyHash = sha256Hex(key.getEncoded());
        try {
            Issued cred = db.inTransaction(c -> {
                SiteRecord s = sites.find(c, site, true).orElseThrow(() -> refused(Refusal.notFound("no site " + site)));
                if (s.revoked()) {
                    throw refused(Refusal.forbidden("site " + site + " is revoked: " + s.reason()));
                }
                boolean repeat = !SiteRecord.PENDING.equals(s.state());
                if (repeat && !keyHash.equals(sites.joinKey(c, site).orElse(null))) {
                    throw refused(Refusal.conflict("site " + site + " has already joined (a join is repeated only with"
                            + " the key of the first)"));
                }
                if (token != null) {
                    checkToken(c, site, token, repeat, now);
                }
                if (repeat) {
                    // The site's first answer was lost: the same key proves it is the same gateway asking again.
                    issuer.audit().allow(c, site, "join", "join repeated by " + how + " with the first join's key "
                            + keyHash + " (its answer was lost)");
                } else {
                    sites.activate(c, site, ekHash, now);
                    sites.setJoinKey(c, site, keyHash);
                    issuer.audit().allow(c, site, "join", "joined by " + how + (ekHash == null ? "" : ", EK " + ekHash));
                }
                if (akPublic != null) {
                    // the AK just proven by credential activation: the one the site's audit checkpoints must carry
                    sites.setJoinAk(c, site, akPublic);
                }
                return issuer.issueCredential(c, site, key);
            });
            LOG.info("site {} joined by {}", site, how);
            return new Joined(site, cred);
        } catch (RefusedInTransaction e) {
            throw deny(site, e.refusal());
        }
    }

    /** The token is the site's, in date, and (unless this is the repeat of its own join) unused; used from now on. */
    private void checkToken(java.sql.Connection c, String site, String token, boolean repeat, Instant now)
            throws java.sql.SQLException {
        JoinStore.Token t = joins.tokenForUpdate(c, site)
                .orElseThrow(() -> refused(Refusal.forbidden("no join token was made for site " + site)));
        if (!MessageDigest.isEqual(sha256Hex(token.getBytes(StandardCharsets.UTF_8)).getBytes(StandardCharsets.US_ASCII),
                t.tokenHash().getBytes(StandardCharsets.US_ASCII))) {
            throw refused(Refusal.forbidden("join token is not the one made for site " + site));
        }
        if (t.usedAt() != null && !repeat) {
            throw refused(Refusal.forbidden("join token of site " + site + " was already used at " + t.usedAt()));
        }
        if (!now.isBefore(t.expiresAt())) {
            throw refused(Refusal.forbidden("join token of site " + site + " expired at " + t.expiresAt()
                    + ": make a new one with `outpost-central site add " + site + " --token`"));
        }
        if (!repeat) {
            joins.markTokenUsed(c, site, now);
        }
    }

    /**
     * The site exists, is not revoked, and was registered for this way of joining; an active one only goes on to the
     * key check of a repeated join.
     */
    private SiteRecord joinable(String site, String how) throws Refusal {
        Optional<SiteRecord> s = db.inTransaction(c -> sites.find(c, site, false));
        if (s.isEmpty()) {
            throw deny(site, Refusal.forbidden("no site " + site + " is registered: `outpost-central site add` it first"));
        }
        SiteRecord r = s.get();
        if (r.revoked()) {
            throw deny(site, Refusal.forbidden("site " + site + " is revoked: " + r.reason()));
        }
        if (!how.equals(r.joinedBy())) {
            throw deny(site, Refusal.forbidden("site " + site + " is registered to join by " + r.joinedBy() + ", not by " + how));
        }
        return r;
    }

    private TpmPublic tpmPublic(byte[] b, String what) throws Refusal {
        if (b == null) {
            throw Refusal.badRequest(what + " is missing");
        }
        try {
            return TpmPublic.parseSized(b);
        } catch (TpmFormatException | RuntimeException e) {
            throw Refusal.badRequest(what + " is not a TPM2B_PUBLIC: " + e.getMessage());
        }
    }

    private static RefusedInTransaction refused(Refusal r) {
        return new RefusedInTransaction(r);
    }

    private Refusal deny(String site, Refusal r) {
        LOG.warn("site {}: join refused ({}): {}", site, r.code(), r.getMessage());
        issuer.audit().deny(site, "join", r.code() + ": " + r.getMessage());
        return r;
    }

    public static String sha256Hex(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
