package dev.outpost.central.bundle;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.central.store.BundleStore;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.IssuanceStore;
import dev.outpost.central.store.StoreException;
import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.SpiffeJwks;

/**
 * The trust domain's SPIFFE bundle, composed from the database on every read (so every instance serves the same
 * bundle for the same sequence): central's roots (as recorded in the ca table) and every site CA that is neither
 * expired nor of a revoked site, and those sites' JWT authorities (use jwt-svid). Blocking (JDBC).
 */
public final class TrustDomainBundle {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ROOTS = 8;

    /** @param jwtAuthorities every non-revoked site's JWT authorities, kid → key (use jwt-svid in the document) */
    public record Snapshot(long sequence, List<X509Certificate> roots, List<X509Certificate> siteCas,
            Map<String, java.security.PublicKey> jwtAuthorities) {
        public Snapshot(long sequence, List<X509Certificate> roots, List<X509Certificate> siteCas) {
            this(sequence, roots, siteCas, Map.of());
        }

        public List<X509Certificate> authorities() {
            List<X509Certificate> all = new ArrayList<>(roots);
            all.addAll(siteCas);
            return all;
        }
    }

    private final Database db;
    private final long refreshHintSeconds;
    private final BundleStore bundle = new BundleStore();
    private final IssuanceStore issued = new IssuanceStore();

    public TrustDomainBundle(Database db, long refreshHintSeconds) {
        this.db = db;
        this.refreshHintSeconds = refreshHintSeconds;
    }

    public Snapshot snapshot() {
        return db.inTransaction(this::snapshot);
    }

    public Snapshot snapshot(Connection c) throws SQLException {
        long seq = bundle.sequence(c);
        BundleStore.CaRecord ca = bundle.ca(c).orElseThrow(() -> new StoreException("no CA recorded: central has not started once"));
        try {
            List<X509Certificate> roots = PemIo.certificates(ca.rootsPem(), MAX_ROOTS);
            List<X509Certificate> sites = new ArrayList<>();
            for (IssuanceStore.SiteCaRow r : issued.bundleSiteCas(c)) {
                sites.addAll(PemIo.certificates(r.certificatePem(), 1));
            }
            return new Snapshot(seq, roots, sites, SiteJwtAuthorities.all(c));
        } catch (GeneralSecurityException e) {
            throw new StoreException("a certificate in the database does not parse: " + e.getMessage(), e);
        }
    }

    /** The SPIFFE bundle document (JWKS). */
    public Map<String, Object> document(Snapshot s) {
        Map<String, Object> doc = new LinkedHashMap<>();
        List<Map<String, Object>> keys = new ArrayList<>();
        for (X509Certificate c : s.authorities()) {
            keys.add(SpiffeJwks.x509SvidKey(c));
        }
        s.jwtAuthorities().forEach((kid, k) -> keys.add(SpiffeJwks.jwtSvidKey(k, kid)));
        doc.put("keys", keys);
        doc.put("spiffe_sequence", s.sequence());
        doc.put("spiffe_refresh_hint", refreshHintSeconds);
        return doc;
    }

    public String json(Snapshot s) {
        try {
            return JSON.writeValueAsString(document(s));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pem(Snapshot s) {
        return PemIo.encode(s.authorities());
    }
}
