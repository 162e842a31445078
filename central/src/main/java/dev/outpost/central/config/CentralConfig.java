package dev.outpost.central.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * central.yaml. Plain fields with the defaults of docs/central.md, bound strictly (unknown keys refused) by
 * {@link ConfigLoader}, then checked by {@link #validate()} so a bad file stops the start with the key at fault.
 */
public final class CentralConfig {
    public String trustDomain;
    public String dataDir = "/var/lib/outpost-central";
    public DatabaseConfig database = new DatabaseConfig();
    public ServerConfig server = new ServerConfig();
    public BundleEndpointConfig bundleEndpoint = new BundleEndpointConfig();
    public JoinConfig join = new JoinConfig();
    public SiteCaConfig siteCa = new SiteCaConfig();
    public SiteCredentialConfig siteCredential = new SiteCredentialConfig();
    public FederationConfig federation = new FederationConfig();
    public EventsConfig events = new EventsConfig();
    public MonitoringConfig monitoring = new MonitoringConfig();

    public static final class DatabaseConfig {
        /** Null: an H2 file in dataDir. {@code jdbc:postgresql://...} for production. */
        public String url;
        public String user;
        public String password;
        public String passwordFile;
        public int maxConnections = 8;
    }

    public static final class ServerConfig {
        public String host = "0.0.0.0";
        public int port = 8444;
        public List<String> names = new ArrayList<>();
    }

    public static final class BundleEndpointConfig {
        public boolean enabled = true;
        public String host = "0.0.0.0";
        public int port = 8443;
        /** https_web (certFile/keyFile) or https_spiffe (an SVID of spiffe://td/outpost/bundle-endpoint). */
        public String profile = "https_spiffe";
        public String certFile;
        public String keyFile;
        public String refreshHint = "300s";
    }

    public static final class JoinConfig {
        public String ekTrust = "hash";
        public String ekCaDir;
        public String tokenTtl = "24h";
        public String activationTtl = "5m";
        /** Unauthenticated join requests per client address per minute. */
        public int ratePerMinute = 30;
    }

    public static final class SiteCaConfig {
        public String maxTtl = "90d";
    }

    public static final class SiteCredentialConfig {
        public String ttl = "365d";
    }

    public static final class FederationConfig {
        /** Bounds on the poll interval; the foreign bundle's refresh hint is used within them. */
        public String minInterval = "30s";
        public String maxInterval = "1h";
        /** Extra CAs for https_web endpoints (PEM); the JDK's web PKI roots when unset. */
        public String webCaFile;
    }

    public static final class EventsConfig {
        /** How long the sites' events are kept (by their time at the site); the fleet view keeps each device's latest. */
        public String retention = "400d";
    }

    /** Liveness, readiness and Prometheus metrics over plain HTTP: loopback unless a scraper elsewhere needs it. */
    public static final class MonitoringConfig {
        public boolean enabled = true;
        public String host = "127.0.0.1";
        public int port = 9465;
    }

    public Path dataPath() {
        return Path.of(dataDir);
    }

    public void validate() {
        if (trustDomain == null) {
            throw new ConfigException("trustDomain is required");
        }
        try {
            dev.outpost.spiffe.SpiffeId.checkTrustDomain(trustDomain);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("trustDomain: " + e.getMessage());
        }
        if (dataDir == null || dataDir.isBlank()) {
            throw new ConfigException("dataDir is required");
        }
        port("server.port", server.port);
        port("bundleEndpoint.port", bundleEndpoint.port);
        port("monitoring.port", monitoring.port);
        if (!"https_web".equals(bundleEndpoint.profile) && !"https_spiffe".equals(bundleEndpoint.profile)) {
            throw new ConfigException("bundleEndpoint.profile: expected https_web or https_spiffe, got " + bundleEndpoint.profile);
        }
        if ("https_web".equals(bundleEndpoint.profile) && bundleEndpoint.enabled
                && (bundleEndpoint.certFile == null || bundleEndpoint.keyFile == null)) {
            throw new ConfigException("bundleEndpoint.profile https_web needs bundleEndpoint.certFile and keyFile");
        }
        duration("bundleEndpoint.refreshHint", bundleEndpoint.refreshHint);
        duration("join.tokenTtl", join.tokenTtl);
        duration("join.activationTtl", join.activationTtl);
        duration("siteCa.maxTtl", siteCa.maxTtl);
        duration("siteCredential.ttl", siteCredential.ttl);
        duration("federation.minInterval", federation.minInterval);
        duration("federation.maxInterval", federation.maxInterval);
        duration("events.retention", events.retention);
        if (Durations.parse(events.retention).compareTo(java.time.Duration.ofDays(1)) < 0) {
            throw new ConfigException("events.retention: at least 1d (a site's backlog arrives after its outage)");
        }
        try {
            dev.outpost.tpm.trust.EkTrustMode.parse(join.ekTrust);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("join.ekTrust: " + e.getMessage());
        }
        if (join.ratePerMinute < 1) {
            throw new ConfigException("join.ratePerMinute must be at least 1");
        }
        if (database.url != null && !database.url.startsWith("jdbc:postgresql:") && !database.url.startsWith("jdbc:h2:")) {
            throw new ConfigException("database.url: only jdbc:postgresql: and jdbc:h2: are supported");
        }
        if (database.password != null && database.passwordFile != null) {
            throw new ConfigException("database: give password or passwordFile, not both");
        }
        if (database.maxConnections < 1 || database.maxConnections > 100) {
            throw new ConfigException("database.maxConnections must be 1..100");
        }
    }

    private static void port(String key, int p) {
        if (p < 0 || p > 65535) {
            throw new ConfigException(key + " must be 0..65535, got " + p);
        }
    }

    private static void duration(String key, String v) {
        try {
            Durations.parse(v);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key + ": " + e.getMessage());
        }
    }
}
