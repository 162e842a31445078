package dev.outpost.central.sites;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.central.join.JoinService;
import dev.outpost.central.store.BundleStore;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.IssuanceStore;
import dev.outpost.central.store.JoinStore;
import dev.outpost.central.store.SiteRecord;
import dev.outpost.central.store.SiteStore;
import dev.outpost.tpm.keys.DeviceId;

/** The operator's side of the registry: what {@code outpost-central site ...} does. Blocking (JDBC). */
public final class SiteAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(SiteAdmin.class);
    private static final int TOKEN_BYTES = 32;

    public record Added(SiteRecord site, String token, Instant tokenExpiresAt) {
    }

    public record Detail(SiteRecord site, List<IssuanceStore.SiteCaRow> siteCas) {
    }

    private final Database db;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final SiteStore sites = new SiteStore();
    private final JoinStore joins = new JoinStore();
    private final IssuanceStore issued = new IssuanceStore();
    private final BundleStore bundle = new BundleStore();
    private final dev.outpost.central.store.Audit audit;

    public SiteAdmin(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
        this.audit = new dev.outpost.central.store.Audit(db, clock);
    }

    /**
     * Registers a site. With {@code tokenTtl} the site joins by a one-time token (256 bits, shown once, stored as
     * its SHA-256); otherwise by its TPM, optionally pinned to one EK hash.
     */
    public Added add(String name, String ekHash, Duration tokenTtl) {
        SiteNames.check(name);
        if (ekHash != null && !DeviceId.isValid(ekHash)) {
            throw new IllegalArgumentException("--ek-hash must be 64 lowercase hex characters (SHA-256 of the EK's SubjectPublicKeyInfo)");
        }
        if (ekHash != null && tokenTtl != null) {
            throw new IllegalArgumentException("--ek-hash and --token exclude each other: a site joins by its TPM or by a token");
        }
        Instant now = clock.instant();
        String token;
        Instant expires = null;
        if (tokenTtl != null) {
            byte[] b = new byte[TOKEN_BYTES];
            random.nextBytes(b);
            token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
            expires = now.plus(tokenTtl);
        } else {
            token = null;
        }
        Instant tokenExpires = expires;
        SiteRecord r = db.inTransaction(c -> {
            Optional<SiteRecord> existing = sites.find(c, name, true);
            if (existing.isPresent()) {
                // Re-issuing the token of a site that has not joined yet is allowed; anything else is a duplicate.
                SiteRecord s = existing.get();
                if (token == null || !SiteRecord.PENDING.equals(s.state()) || !"token".equals(s.joinedBy())) {
                    throw new IllegalArgumentException("site " + name + " already exists (" + s.state() + ", joins by " + s.joinedBy() + ")");
                }
            } else {
                sites.insert(c, name, token != null ? "token" : "tpm", ekHash, now);
            }
            if (token != null) {
                joins.putToken(c, name, JoinService.sha256Hex(token.getBytes(StandardCharsets.UTF_8)), tokenExpires);
            }
            audit.allow(c, name, "add", existing.isPresent() ? "join token replaced, expires " + tokenExpires
                    : "registered; joins by " + (token != null ? "token, expires " + tokenExpires
                            : "tpm" + (ekHash == null ? "" : ", EK " + ekHash)));
            return sites.find(c, name, false).orElseThrow();
        });
        LOG.info("site {} added (joins by {})", name, r.joinedBy());
        return new Added(r, token, tokenExpires);
    }

    public List<SiteRecord> list() {
        return db.inTransaction(sites::list);
    }

    public Optional<Detail> show(String name) {
        return db.inTransaction(c -> sites.find(c, name, false).map(s -> {
            try {
                return new Detail(s, issued.siteCas(c, name));
            } catch (java.sql.SQLException e) {
                throw new dev.outpost.central.store.StoreException("database: " + e.getMessage(), e);
            }
        }));
    }

    /** Revokes a site: its credential stops working at once and its CAs leave the bundle (sequence moves). */
    public SiteRecord revoke(String name, String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("--reason is required: it is shown to the site and kept in the registry");
        }
        Instant now = clock.instant();
        SiteRecord r = db.inTransaction(c -> {
            SiteRecord s = sites.find(c, name, true).orElseThrow(() -> new IllegalArgumentException("no site " + name));
            if (s.revoked()) {
                throw new IllegalArgumentException("site " + name + " is already revoked (" + s.reason() + ")");
            }
            sites.revoke(c, name, reason, now);
            bundle.bump(c, now);
            audit.allow(c, name, "revoke", reason);
            return sites.find(c, name, false).orElseThrow();
        });
        LOG.warn("site {} revoked: {}", name, reason);
        return r;
    }
}
