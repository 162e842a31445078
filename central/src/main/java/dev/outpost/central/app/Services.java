package dev.outpost.central.app;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;

import dev.outpost.central.bundle.TrustDomainBundle;
import dev.outpost.central.ca.CentralCa;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.config.ConfigException;
import dev.outpost.central.config.Durations;
import dev.outpost.central.issue.SiteIssuer;
import dev.outpost.central.join.JoinService;
import dev.outpost.central.sites.SiteAdmin;
import dev.outpost.central.sites.SiteAuthenticator;
import dev.outpost.central.sites.SiteService;
import dev.outpost.central.store.Database;
import dev.outpost.tpm.trust.EkTrustMode;
import dev.outpost.tpm.trust.ManufacturerCas;

/** Central's services wired over one database and one CA: what the server runs and what tests and the bench drive. */
public final class Services implements AutoCloseable {
    public final CentralConfig config;
    public final Clock clock;
    public final Database db;
    public final CentralCa ca;
    public final SiteIssuer issuer;
    public final JoinService joins;
    public final SiteService sites;
    public final SiteAdmin admin;
    public final SiteAuthenticator auth;
    public final TrustDomainBundle bundle;
    public final dev.outpost.central.events.EventIngest events;
    public final dev.outpost.central.fleet.FleetView fleet;

    private Services(CentralConfig config, Clock clock, Database db, CentralCa ca) {
        this.config = config;
        this.clock = clock;
        this.db = db;
        this.ca = ca;
        this.issuer = new SiteIssuer(ca, db, clock, Durations.parse(config.siteCa.maxTtl), Durations.parse(config.siteCredential.ttl));
        this.joins = new JoinService(db, issuer, EkTrustMode.parse(config.join.ekTrust), ekCas(config), clock,
                Durations.parse(config.join.activationTtl));
        this.bundle = new TrustDomainBundle(db, Durations.parse(config.bundleEndpoint.refreshHint).toSeconds());
        this.sites = new SiteService(db, issuer, bundle);
        this.admin = new SiteAdmin(db, clock);
        this.auth = new SiteAuthenticator(ca, db, clock);
        this.events = new dev.outpost.central.events.EventIngest(db, clock);
        this.fleet = new dev.outpost.central.fleet.FleetView(db);
    }

    /** Opens the database, loads (or at first start makes) the CA, and binds the two. Blocking. */
    public static Services open(CentralConfig config, Clock clock) {
        Database db = Database.open(config.database, config.dataPath());
        try {
            CentralCa ca = CentralCa.loadOrCreate(caDir(config), config.trustDomain, clock);
            CaBinding.bind(ca, db, clock);
            return new Services(config, clock, db, ca);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    public static Path caDir(CentralConfig config) {
        return config.dataPath().resolve("ca");
    }

    private static ManufacturerCas ekCas(CentralConfig config) {
        if (config.join.ekCaDir == null) {
            return ManufacturerCas.none();
        }
        try {
            return ManufacturerCas.load(Path.of(config.join.ekCaDir));
        } catch (IOException e) {
            throw new ConfigException("join.ekCaDir: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        db.close();
    }
}
