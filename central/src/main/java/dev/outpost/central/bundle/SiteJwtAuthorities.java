package dev.outpost.central.bundle;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.central.refusal.Refusal;
import dev.outpost.central.store.BundleStore;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.Sql;
import dev.outpost.spiffe.SpiffeJwks;

/**
 * {@code POST /v1/site/jwt-authorities}: a nested site's JWT authority public keys, which central publishes in the
 * trust domain bundle ({@code use} jwt-svid) so central and every other site validate that site's JWT-SVIDs.
 *
 * <p>The body is a SPIFFE bundle document holding only jwt-svid keys, parsed by {@link SpiffeJwks} (its limits), and
 * checked strictly: at most {@link #MAX_KEYS} keys, each kid Outpost's kid of that key ({@link SpiffeJwks#kidOf}),
 * no key of another site. The site's set is replaced whole, and the bundle's sequence moves in the same transaction
 * when it changed. Blocking (JDBC).
 */
public final class SiteJwtAuthorities {
    private static final Logger LOG = LoggerFactory.getLogger(SiteJwtAuthorities.class);
    /** Active, next and a few retired keys: what a site publishes through a rotation. */
    public static final int MAX_KEYS = 8;
    public static final int MAX_BODY = 32 * 1024;

    private final Database db;
    private final Clock clock;
    private final BundleStore bundle = new BundleStore();

    public SiteJwtAuthorities(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** Replaces {@code site}'s JWT authorities with those in {@code body}; returns how many it holds now and the sequence. */
    public Map<String, Object> accept(String site, byte[] body) throws Refusal {
        Map<String, PublicKey> keys = parse(body);
        try {
            return db.inTransaction(c -> {
                Map<String, PublicKey> before = forSite(c, site);
                if (sameKeys(before, keys)) {
                    return answer(keys.size(), bundle.sequence(c));
                }
                for (String kid : keys.keySet()) {
                    String owner = owner(c, kid);
                    if (owner != null && !owner.equals(site)) {
                        throw new Wrapped(new Refusal(Refusal.Code.CONFLICT, "kid " + kid + " is a JWT authority of another site"));
                    }
                }
                try (PreparedStatement del = c.prepareStatement("DELETE FROM site_jwt_authorities WHERE site = ?")) {
                    del.setString(1, site);
                    del.executeUpdate();
                }
                try (PreparedStatement ins = c.prepareStatement(
                        "INSERT INTO site_jwt_authorities (kid, site, spki, updated_at) VALUES (?, ?, ?, ?)")) {
                    for (Map.Entry<String, PublicKey> e : keys.entrySet()) {
                        ins.setString(1, e.getKey());
                        ins.setString(2, site);
                        ins.setString(3, Base64.getEncoder().encodeToString(e.getValue().getEncoded()));
                        Sql.setInstant(ins, 4, clock.instant());
                        ins.addBatch();
                    }
                    ins.executeBatch();
                }
                bundle.bump(c, clock.instant());
                LOG.info("site {} JWT authorities now {} (were {})", site, keys.keySet(), before.keySet());
                return answer(keys.size(), bundle.sequence(c));
            });
        } catch (Wrapped w) {
            throw w.refusal;
        }
    }

    /** Every non-revoked site's JWT authorities, kid → key, for the trust domain bundle. */
    public static Map<String, PublicKey> all(Connection c) throws SQLException {
        return read(c, "SELECT j.kid, j.spki FROM site_jwt_authorities j JOIN sites s ON s.name = j.site "
                + "WHERE s.state <> 'revoked' ORDER BY j.site, j.kid", null);
    }

    private static Map<String, PublicKey> forSite(Connection c, String site) throws SQLException {
        return read(c, "SELECT kid, spki FROM site_jwt_authorities WHERE site = ? ORDER BY kid", site);
    }

    private static Map<String, PublicKey> read(Connection c, String sql, String site) throws SQLException {
        Map<String, PublicKey> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (site != null) {
                ps.setString(1, site);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), publicKey(rs.getString(2)));
                }
            }
        }
        return out;
    }

    private static String owner(Connection c, String kid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT site FROM site_jwt_authorities WHERE kid = ?")) {
            ps.setString(1, kid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    static Map<String, PublicKey> parse(byte[] body) throws Refusal {
        if (body == null || body.length == 0) {
            throw Refusal.badRequest("body is empty: send {\"keys\": [...]} with the site's jwt-svid keys");
        }
        if (body.length > MAX_BODY) {
            throw new Refusal(Refusal.Code.TOO_LARGE, "body over " + MAX_BODY + " bytes");
        }
        SpiffeJwks.Parsed p;
        try {
            p = SpiffeJwks.parse(new String(body, StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw Refusal.badRequest("JWT authorities: " + e.getMessage());
        }
        if (!p.x509Authorities().isEmpty()) {
            throw Refusal.badRequest("JWT authorities: x509-svid keys are not taken here (site CAs come through /v1/site/ca)");
        }
        if (p.jwtAuthorities().isEmpty() || p.jwtAuthorities().size() > MAX_KEYS) {
            throw Refusal.badRequest("JWT authorities: 1.." + MAX_KEYS + " jwt-svid keys, got " + p.jwtAuthorities().size());
        }
        for (Map.Entry<String, PublicKey> e : p.jwtAuthorities().entrySet()) {
            String expected = SpiffeJwks.kidOf(e.getValue());
            if (!expected.equals(e.getKey())) {
                throw Refusal.badRequest("JWT authorities: kid " + clip(e.getKey()) + " is not the key's kid (" + expected
                        + ": base64url of the first 16 bytes of the SHA-256 of its SubjectPublicKeyInfo)");
            }
        }
        return p.jwtAuthorities();
    }

    private static boolean sameKeys(Map<String, PublicKey> a, Map<String, PublicKey> b) {
        return a.keySet().equals(b.keySet());
    }

    private static PublicKey publicKey(String b64) throws SQLException {
        byte[] der = Base64.getDecoder().decode(b64);
        for (String alg : new String[] {"EC", "RSA"}) {
            try {
                return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // the other algorithm
            }
        }
        throw new SQLException("site_jwt_authorities holds a key that does not parse");
    }

    private static Map<String, Object> answer(int keys, long sequence) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", 1);
        m.put("keys", keys);
        m.put("sequence", sequence);
        return m;
    }

    private static String clip(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return "'" + t.replaceAll("[^\\x20-\\x7e…]", "?") + "'";
    }

    /** Carries a refusal out of the transaction (whose work may throw only SQL and unchecked exceptions). */
    private static final class Wrapped extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient Refusal refusal;

        Wrapped(Refusal r) {
            super(r.getMessage(), null, false, false);
            this.refusal = r;
        }
    }
}
