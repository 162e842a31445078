package dev.outpost.appliance.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The appliance's configuration ({@code /etc/outpost/appliance.yaml}). Every key is optional: a missing key
 * takes its default ({@link #defaults()}, the same values as the shipped, commented
 * {@code packaging/etc/outpost/appliance.yaml}); an unknown key is an error, because a misspelt key silently
 * ignored is a security setting silently not applied. Durations are ISO-8601 ({@code PT1H}, {@code P365D}).
 */
public record ApplianceConfig(
        String trustDomain,
        String site,
        Path dataDir,
        Path runtimeDir,
        Mqtt mqtt,
        Admin admin,
        Metrics metrics,
        Ca ca,
        Enrollment enrollment,
        Attestation attestation,
        Retention retention,
        Upstream upstream,
        Federation federation,
        Outbox outbox,
        Audit audit) {

    /**
     * @param tls server certificate and key for the MQTT listener; both null: the appliance issues its own
     *            from the site CA
     */
    public record Mqtt(String host, int port, String topicPrefix, int maxPayloadBytes, Tls tls, String mode, Broker broker) {
        public boolean external() {
            return "broker".equals(mode);
        }
    }

    /**
     * External broker mode: the site's broker (ssl://host:port of its mTLS listener) and the CA that signed its
     * certificate (null: the site CA, which then issues the broker's certificate too).
     */
    public record Broker(String uri, Path caFile) {
    }

    public record Tls(Path cert, Path key) {
        public boolean selfIssued() {
            return cert == null && key == null;
        }
    }

    /** @param socket the admin API's Unix socket; default {@code <runtimeDir>/admin.sock} */
    public record Admin(Path socket) {
    }

    public record Metrics(String host, int port) {
    }

    /**
     * @param mode    standalone: the site CA is a self-signed root made here; nested: an intermediate signed upstream
     *                (by central online, or by any CA through the file flow {@code ca csr} / {@code ca install})
     * @param ttl     lifetime of a new site CA (standalone: what we make; nested: what we ask for, central may cap it)
     * @param svidTtl lifetime of node SVIDs (renewed on fresh attestation)
     * @param keyProtection {@code file} (a PKCS#8 file, 0600) or {@code tpm}: every CA private key is kept only
     *                encrypted under a data key sealed to the gateway's TPM ({@code upstream.tpm})
     * @param sealPcrs with {@code tpm}: the PCRs (sha256 bank, e.g. {@code sha256:0,2,4,7}) the data key is sealed
     *                to; empty for none
     */
    public record Ca(CaMode mode, Duration ttl, Duration svidTtl, KeyProtection keyProtection, String sealPcrs) {
        public Ca(CaMode mode, Duration ttl, Duration svidTtl) {
            this(mode, ttl, svidTtl, KeyProtection.FILE, "");
        }

        public boolean nested() {
            return mode == CaMode.NESTED;
        }

        public boolean sealed() {
            return keyProtection == KeyProtection.TPM;
        }
    }

    /** How CA private keys are kept at rest. */
    public enum KeyProtection {
        FILE, TPM;

        @JsonValue
        public String yaml() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static KeyProtection parse(String v) {
            for (KeyProtection m : values()) {
                if (m.yaml().equals(v)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("must be file or tpm; got '" + v + "'");
        }
    }

    /** Where the site CA comes from. */
    public enum CaMode {
        STANDALONE, NESTED;

        @JsonValue
        public String yaml() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static CaMode parse(String v) {
            for (CaMode m : values()) {
                if (m.yaml().equals(v)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("must be standalone or nested; got '" + v + "'");
        }
    }

    /**
     * The central trust domain's site API (docs/upward-link.md). All null: no online link; a nested site then gets
     * its CA by the file flow only.
     *
     * @param url       https://HOST:PORT of central's site API (a list of one; exclusive with {@code urls})
     * @param urls      several addresses of central (instances or sites of it), tried in turn: a connect failure, a
     *                  timeout or a 5xx moves to the next
     * @param caFile    central's root, the only anchor trusted for the site API's server certificate
     * @param join      how the site joins central the first time: by the gateway's TPM or a one-time token
     * @param token     the join token itself (prefer tokenFile: a config file is often readable by more people)
     * @param tokenFile a file holding the join token
     * @param tpm       the gateway's own TPM for {@code join: tpm}, as a TPM URI (device:/dev/tpmrm0, swtpm:HOST:PORT)
     * @param connectTimeout  a TCP connect to one address gives up after this
     * @param requestTimeout  one whole request to one address (sent, answered and read) gives up after this
     */
    public record Upstream(String url, java.util.List<String> urls, Path caFile, JoinMethod join, String token,
                           Path tokenFile, String tpm, Duration connectTimeout, Duration requestTimeout) {
        public boolean online() {
            return !addresses().isEmpty();
        }

        /** The addresses in the order they are tried: {@code urls}, or {@code url} as a list of one. */
        public java.util.List<String> addresses() {
            if (urls != null && !urls.isEmpty()) {
                return urls;
            }
            return url == null ? java.util.List.of() : java.util.List.of(url);
        }
    }

    /** @param bundleEndpoint the site's own SPIFFE bundle endpoint, for a site that is a trust domain of its own */
    public record Federation(BundleEndpoint bundleEndpoint) {
    }

    /**
     * The SPIFFE Federation bundle endpoint of a standalone site ({@code GET /} on its own HTTPS port), which central or
     * any SPIFFE peer polls to federate with the site's trust domain.
     *
     * @param profile     https_spiffe (the server authenticates with an SVID {@code spiffe://<td>/outpost/bundle-endpoint}
     *                    from the site CA) or https_web (with certFile and keyFile from a web PKI)
     * @param refreshHint the {@code spiffe_refresh_hint} served
     */
    public record BundleEndpoint(boolean enabled, String host, int port, String profile, Path certFile, Path keyFile,
                                 Duration refreshHint) {
        public static final String HTTPS_SPIFFE = "https_spiffe";
        public static final String HTTPS_WEB = "https_web";
    }

    /** How a site proves itself to central at join time. */
    public enum JoinMethod {
        TPM, TOKEN;

        @JsonValue
        public String yaml() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static JoinMethod parse(String v) {
            for (JoinMethod m : values()) {
                if (m.yaml().equals(v)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("must be tpm or token; got '" + v + "'");
        }
    }

    /**
     * @param nodeKeys {@code tpm} (default): a CSR is signed only when the device's AK certified its key as a key the
     *                 TPM made and holds (TPM2_Certify); {@code software-allowed}: a CSR without that certification is
     *                 accepted too, and the device carries the selector {@code outpost:node-key:software}
     */
    public record Enrollment(EkTrust ekTrust, Path allowListDir, Path ekCaDir, Duration activationTtl,
                             int rateLimitPerMinute, int deviceRateLimitPerMinute, String nodeKeys) {
        public static final String NODE_KEYS_TPM = "tpm";
        public static final String NODE_KEYS_SOFTWARE_ALLOWED = "software-allowed";

        public Enrollment(EkTrust ekTrust, Path allowListDir, Path ekCaDir, Duration activationTtl,
                          int rateLimitPerMinute, int deviceRateLimitPerMinute) {
            this(ekTrust, allowListDir, ekCaDir, activationTtl, rateLimitPerMinute, deviceRateLimitPerMinute, NODE_KEYS_TPM);
        }

        /** Whether a CSR needs its key certified by the AK. */
        public boolean tpmNodeKeysRequired() {
            return !NODE_KEYS_SOFTWARE_ALLOWED.equals(nodeKeys);
        }
    }

    /**
     * @param interval         how often a device attests
     * @param freshness        how long a passing attestation keeps a device trusted; SVIDs never outlive it
     * @param challengeTtl     how long a nonce may be answered
     * @param pcrs             the PCR selection quoted (tpm2-tools form); must include PCR 10 for IMA
     * @param maxEvidenceBytes the most log bytes one attestation may carry (the first one holds the whole IMA list)
     * @param webhook          where revocation events are POSTed, if anywhere
     * @param flushInterval    how long routine passes (trusted stays trusted) wait in memory before being written
     *                         together; refusals and state changes are written at once
     * @param maxBufferedEvidenceBytes the most log bytes all devices' attestations may hold in the appliance at once
     *                         (0: a quarter of the heap); past it devices are told to retry later
     * @param failOnImaViolations whether an IMA violation (ToMToU / open-writers, all-zero template hash) fails
     *                         the device; off by default, as Keylime: such entries are counted, their paths not judged
     */
    public record Attestation(Duration interval, Duration freshness, Duration challengeTtl, String pcrs,
                              long maxEvidenceBytes, long maxBufferedEvidenceBytes, Webhook webhook, Duration flushInterval,
                              boolean failOnImaViolations) {
    }

    /**
     * How long the history tables keep rows; older ones are deleted in small batches on a timer.
     *
     * @param audit        routine audit rows: attestation verdicts that changed a state, issuances, refusals, stale
     * @param auditLasting audit rows that explain a device's standing or an operator's act: revocations and failure
     *                     verdicts, operator actions, enrollments; at least {@code audit}
     * @param svids        how long an SVID's history row outlives the SVID's expiry; a device's last issuance and
     *                     every unexpired SVID are always kept (a revocation may need the serial)
     * @param every        how often the pruning runs
     * @param batchSize    rows deleted per transaction: small, so writers never wait long behind the pruning
     */
    public record Retention(Duration audit, Duration auditLasting, Duration svids, Duration every, int batchSize) {
    }

    /**
     * @param url               https:// URL that receives revocation events (POST, JSON), or null for none
     * @param allowInsecureHttp accept an http:// URL: events then travel in clear text to a receiver nobody
     *                          authenticated, so only for a receiver on this host
     * @param caFile            PEM file of the CA certificates that alone are trusted for the receiver's https
     *                          certificate (a site's own CA), or null for the JDK's trust store
     * @param authorizationFile file (mode 0600) whose one line is sent as the {@code Authorization} header, such as
     *                          {@code Bearer <token>}; read again for every round of deliveries; or null for none
     */
    public record Webhook(String url, boolean allowInsecureHttp, Path caFile, Path authorizationFile) {
    }

    /**
     * What goes upward to central (docs/upward-link.md "Store and forward"). Every site keeps its outbox, linked or
     * not; only a site with {@code upstream.url} sends it.
     *
     * @param maxRows       the bound on unsent rows: past it, superseded device states are coalesced (latest wins);
     *                      revocations, audit, operator and CA events are written whatever the bound says
     * @param maxBytes      the same bound in payload bytes
     * @param sentRetention how long a row central acknowledged is kept before it is pruned
     * @param batchRows     rows per POST (at most 500, central's limit; a batch also stays under 1 MiB)
     * @param summaryEvery  how often the site sends its summary (devices by state, CA expiry, backlog)
     */
    public record Outbox(long maxRows, long maxBytes, Duration sentRetention, int batchRows, Duration summaryEvery) {
    }

    /**
     * The audit trail's TPM anchor (docs/operations.md "Audit trail"). The chain itself is always kept.
     *
     * @param anchor         {@code none} or {@code tpm}: extend the chain heads into an NV index of the gateway's TPM
     *                       ({@code upstream.tpm}) and have its AK certify the index
     * @param anchorInterval how often the heads are anchored (when they moved), and once more at shutdown
     * @param anchorNvIndex  the NV index (owner range), e.g. 0x01000a17
     */
    public record Audit(String anchor, Duration anchorInterval, String anchorNvIndex) {
        public boolean tpm() {
            return "tpm".equals(anchor);
        }

        public int nvIndex() {
            String v = anchorNvIndex.trim().toLowerCase(Locale.ROOT);
            return Integer.parseUnsignedInt(v.startsWith("0x") ? v.substring(2) : v, 16);
        }
    }

    /** How an EK earns trust: its hash on the allow-list, a certificate chaining to a TPM maker's CA, or both. */
    public enum EkTrust {
        EITHER, HASH, CERT, BOTH;

        @JsonValue
        public String yaml() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static EkTrust parse(String v) {
            for (EkTrust t : values()) {
                if (t.yaml().equals(v)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("must be one of either, hash, cert, both; got '" + v + "'");
        }
    }

    public static final String ADMIN_SOCKET_NAME = "admin.sock";

    public static ApplianceConfig defaults() {
        return ConfigLoader.defaults();
    }

    public static ApplianceConfig load(Path yaml) {
        return ConfigLoader.load(yaml);
    }

    /** Parses YAML text; {@code source} names it in error messages. */
    public static ApplianceConfig parse(String yaml, String source) {
        return ConfigLoader.parse(yaml, source);
    }

    /**
     * The same configuration with other data and runtime directories (tests, a second instance). An admin
     * socket that was the default follows the runtime directory; one set explicitly stays.
     */
    public ApplianceConfig withDirs(Path data, Path runtime) {
        Path socket = admin.socket().equals(runtimeDir.resolve(ADMIN_SOCKET_NAME)) ? runtime.resolve(ADMIN_SOCKET_NAME)
                : admin.socket();
        ApplianceConfig c = new ApplianceConfig(trustDomain, site, data, runtime, mqtt, new Admin(socket), metrics, ca,
                enrollment, attestation, retention, upstream, federation, outbox, audit);
        ConfigValidator.validate(c, "withDirs");
        return c;
    }

    /** Where the site CA keeps {@code ca.key} and {@code ca.crt}. */
    public Path caDir() {
        return dataDir.resolve("ca");
    }

    /** Where the site credential for central lives ({@code site.key}, {@code site.crt}). */
    public Path upstreamDir() {
        return dataDir.resolve("upstream");
    }
}
