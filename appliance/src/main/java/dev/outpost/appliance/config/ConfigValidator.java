package dev.outpost.appliance.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import dev.outpost.spiffe.SpiffeId;


/** Checks a bound configuration and reports every problem at once, each as "path: reason". */
final class ConfigValidator {
    private static final Pattern SITE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    /** Central's site names (its credential's SPIFFE ID ends with one): stricter than a standalone site's. */
    private static final int MAX_UPSTREAM_URLS = 16;
    private static final Pattern CENTRAL_SITE = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    /** sun_path is 108 bytes including the terminating NUL. */
    static final int MAX_SOCKET_PATH = 107;
    static final int MAX_MQTT_PAYLOAD = 16 * 1024 * 1024;

    private final List<String> errors = new ArrayList<>();

    private ConfigValidator() {
    }

    static void validate(ApplianceConfig c, String source) {
        ConfigValidator v = new ConfigValidator();
        v.check(c);
        if (!v.errors.isEmpty()) {
            throw new ConfigException(source, v.errors);
        }
    }

    private void check(ApplianceConfig c) {
        if (c.trustDomain() == null) {
            error("trustDomain", "required");
        } else {
            try {
                SpiffeId.checkTrustDomain(c.trustDomain());
            } catch (IllegalArgumentException e) {
                error("trustDomain", e.getMessage());
            }
        }
        if (c.site() == null || !SITE.matcher(c.site()).matches()) {
            error("site", "must be 1..63 letters, digits, '.', '-' or '_' starting with a letter or digit, got " + show(c.site()));
        }
        absolute("dataDir", c.dataDir());
        absolute("runtimeDir", c.runtimeDir());

        ApplianceConfig.Mqtt m = c.mqtt();
        host("mqtt.host", m.host());
        port("mqtt.port", m.port());
        topicPrefix(m.topicPrefix());
        if (!"embedded".equals(m.mode()) && !"broker".equals(m.mode())) {
            error("mqtt.mode", "must be embedded or broker, got " + m.mode());
        } else if (m.external() && (m.broker() == null || m.broker().uri() == null
                || !m.broker().uri().startsWith("ssl://"))) {
            error("mqtt.broker.uri", "broker mode needs the broker's TLS listener as ssl://HOST:PORT");
        }
        if (m.maxPayloadBytes() < 1024 || m.maxPayloadBytes() > MAX_MQTT_PAYLOAD) {
            error("mqtt.maxPayloadBytes", "must be 1024.." + MAX_MQTT_PAYLOAD + ", got " + m.maxPayloadBytes());
        }
        ApplianceConfig.Tls tls = m.tls();
        if (tls == null || (tls.cert() == null) != (tls.key() == null)) {
            error("mqtt.tls", "cert and key must be set together (or both left empty for a certificate from the site CA)");
        } else if (!tls.selfIssued()) {
            absolute("mqtt.tls.cert", tls.cert());
            absolute("mqtt.tls.key", tls.key());
        }

        Path socket = c.admin().socket();
        if (absolute("admin.socket", socket)
                && socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            error("admin.socket", "path longer than " + MAX_SOCKET_PATH + " bytes cannot be a Unix socket: " + socket);
        }

        host("metrics.host", c.metrics().host());
        port("metrics.port", c.metrics().port());
        if (m.port() != 0 && c.metrics().port() == m.port() && c.metrics().host() != null && c.metrics().host().equals(m.host())) {
            error("metrics.port", "same host and port as mqtt: " + m.port());
        }

        ApplianceConfig.Ca ca = c.ca();
        boolean ttlOk = positive("ca.ttl", ca.ttl());
        boolean svidOk = positive("ca.svidTtl", ca.svidTtl());
        if (svidOk && ca.svidTtl().compareTo(Duration.ofMinutes(1)) < 0) {
            error("ca.svidTtl", "must be at least PT1M, got " + ca.svidTtl());
        } else if (ttlOk && svidOk && ca.svidTtl().compareTo(ca.ttl()) >= 0) {
            error("ca.svidTtl", "must be shorter than ca.ttl (" + ca.ttl() + "), got " + ca.svidTtl());
        }

        if (ca.mode() == null) {
            error("ca.mode", "required (standalone or nested)");
        }
        upstream(c.upstream(), ca, c.site());
        keyProtection(ca, c.upstream());
        bundleEndpoint(c.federation().bundleEndpoint(), ca);

        ApplianceConfig.Enrollment e = c.enrollment();
        if (e.ekTrust() == null) {
            error("enrollment.ekTrust", "required (either, hash, cert, both)");
        }
        absolute("enrollment.allowListDir", e.allowListDir());
        absolute("enrollment.ekCaDir", e.ekCaDir());
        if (positive("enrollment.activationTtl", e.activationTtl())
                && (e.activationTtl().compareTo(Duration.ofSeconds(10)) < 0 || e.activationTtl().compareTo(Duration.ofHours(1)) > 0)) {
            error("enrollment.activationTtl", "must be PT10S..PT1H, got " + e.activationTtl());
        }
        if (e.deviceRateLimitPerMinute() < 1 || e.deviceRateLimitPerMinute() > e.rateLimitPerMinute()) {
            error("enrollment.deviceRateLimitPerMinute", "must be 1..rateLimitPerMinute, got " + e.deviceRateLimitPerMinute());
        }
        if (!ApplianceConfig.Enrollment.NODE_KEYS_TPM.equals(e.nodeKeys())
                && !ApplianceConfig.Enrollment.NODE_KEYS_SOFTWARE_ALLOWED.equals(e.nodeKeys())) {
            error("enrollment.nodeKeys", "tpm or software-allowed, got '" + e.nodeKeys() + "'");
        }
        if (e.rateLimitPerMinute() < 1 || e.rateLimitPerMinute() > 1_000_000) {
            error("enrollment.rateLimitPerMinute", "must be 1..1000000, got " + e.rateLimitPerMinute());
        }
        attestation(c.attestation());
        retention(c.retention());
        outbox(c.outbox());
        audit(c.audit(), c.upstream());
    }

    /**
     * No upstream URL is allowed in both modes: a nested site without one gets its CA by the file flow. With a URL,
     * everything the join needs must be there now, not discovered at the first join attempt days later.
     */
    private void bundleEndpoint(ApplianceConfig.BundleEndpoint b, ApplianceConfig.Ca ca) {
        if (b == null || !b.enabled()) {
            return;
        }
        if (ca.nested()) {
            error("federation.bundleEndpoint.enabled", "a nested site is part of central's trust domain, whose bundle"
                    + " endpoint central serves; only a standalone site (its own trust domain) serves one");
        }
        if (b.port() < 0 || b.port() > 65535) {
            error("federation.bundleEndpoint.port", "must be a TCP port (0 picks a free one), got " + b.port());
        }
        if (b.host() == null || b.host().isBlank()) {
            error("federation.bundleEndpoint.host", "required");
        }
        positive("federation.bundleEndpoint.refreshHint", b.refreshHint());
        if (ApplianceConfig.BundleEndpoint.HTTPS_WEB.equals(b.profile())) {
            if (b.certFile() == null || b.keyFile() == null) {
                error("federation.bundleEndpoint", "https_web needs certFile and keyFile (a web PKI certificate)");
            }
        } else if (ApplianceConfig.BundleEndpoint.HTTPS_SPIFFE.equals(b.profile())) {
            if (b.certFile() != null || b.keyFile() != null) {
                error("federation.bundleEndpoint", "https_spiffe authenticates with an SVID from the site CA: leave"
                        + " certFile and keyFile empty");
            }
        } else {
            error("federation.bundleEndpoint.profile", "must be https_spiffe or https_web, got '" + b.profile() + "'");
        }
    }

    private void upstream(ApplianceConfig.Upstream u, ApplianceConfig.Ca ca, String site) {
        if (u != null) {
            positive("upstream.connectTimeout", u.connectTimeout());
            positive("upstream.requestTimeout", u.requestTimeout());
        }
        if (u != null && u.url() != null && u.urls() != null) {
            error("upstream.urls", "set upstream.url (one address) or upstream.urls (a list), not both");
            return;
        }
        if (u != null && u.urls() != null && u.urls().isEmpty()) {
            error("upstream.urls", "an empty list: give at least one address, or remove the key (no online link)");
            return;
        }
        if (u == null || !u.online()) {
            if (u != null && (u.caFile() != null || u.token() != null || u.tokenFile() != null)) {
                error("upstream.url", "required when other upstream keys are set (or remove them: no online link)");
            }
            return;
        }
        if (site != null && !CENTRAL_SITE.matcher(site).matches()) {
            error("site", "a site joined to central is named as central names it: ^[a-z0-9][a-z0-9-]{0,62}$ "
                    + "(docs/upward-link.md), got " + show(site));
        }
        if (ca.mode() != ApplianceConfig.CaMode.NESTED) {
            error("upstream.url", "only a nested site CA (ca.mode: nested) is signed upstream; set ca.mode: nested "
                    + "or remove upstream.url");
        }
        if (u.urls() != null) {
            if (u.urls().size() > MAX_UPSTREAM_URLS) {
                error("upstream.urls", "at most " + MAX_UPSTREAM_URLS + " addresses, got " + u.urls().size());
            }
            if (new java.util.HashSet<>(u.urls()).size() != u.urls().size()) {
                error("upstream.urls", "lists an address twice");
            }
            for (int i = 0; i < u.urls().size() && i < MAX_UPSTREAM_URLS; i++) {
                centralUrl("upstream.urls[" + i + "]", u.urls().get(i));
            }
        } else {
            centralUrl("upstream.url", u.url());
        }
        if (u.caFile() == null) {
            error("upstream.caFile", "required with upstream.url: central's root, the only anchor trusted for its "
                    + "server certificate (the system's CAs are not)");
        } else {
            absolute("upstream.caFile", u.caFile());
        }
        if (u.join() == null) {
            error("upstream.join", "required with upstream.url (tpm or token)");
        } else if (u.join() == ApplianceConfig.JoinMethod.TOKEN) {
            if ((u.token() == null) == (u.tokenFile() == null)) {
                error("upstream.token", "join: token needs exactly one of upstream.token or upstream.tokenFile");
            } else if (u.tokenFile() != null) {
                absolute("upstream.tokenFile", u.tokenFile());
            } else if (u.token().isBlank() || u.token().length() > 1024) {
                error("upstream.token", "must be 1..1024 non-blank characters");
            }
        } else {
            if (u.token() != null || u.tokenFile() != null) {
                error("upstream.token", "join: tpm takes no token (remove it, or set join: token)");
            }
            if (u.tpm() == null) {
                error("upstream.tpm", "join: tpm needs the gateway's TPM, e.g. device:/dev/tpmrm0");
            } else {
                try {
                    dev.outpost.tpm.device.TpmUri.parse(u.tpm());
                } catch (IllegalArgumentException ex) {
                    error("upstream.tpm", ex.getMessage());
                }
            }
        }
    }

    private void centralUrl(String key, String url) {
        if (url == null) {
            error(key, "must be https://HOST[:PORT] (central's site API), got null");
            return;
        }
        java.net.URI uri;
        try {
            uri = new java.net.URI(url);
        } catch (java.net.URISyntaxException ex) {
            error(key, "not a URL: " + ex.getMessage());
            return;
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            error(key, "must be https://HOST[:PORT] (central's site API), got " + show(url));
        } else if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
            error(key, "must not have a path (the API paths are fixed), got " + show(url));
        }
    }

    private void keyProtection(ApplianceConfig.Ca ca, ApplianceConfig.Upstream u) {
        if (ca.keyProtection() == null) {
            error("ca.keyProtection", "required (file or tpm)");
            return;
        }
        String pcrs = ca.sealPcrs() == null ? "" : ca.sealPcrs().trim();
        if (!ca.sealed()) {
            if (!pcrs.isEmpty()) {
                error("ca.sealPcrs", "only with ca.keyProtection: tpm (remove it, or set keyProtection: tpm)");
            }
            return;
        }
        if (u == null || u.tpm() == null) {
            error("upstream.tpm", "ca.keyProtection: tpm seals the CA key to the gateway's TPM: set upstream.tpm, "
                    + "e.g. device:/dev/tpmrm0");
        } else if (!u.online()) {
            try {
                dev.outpost.tpm.device.TpmUri.parse(u.tpm());
            } catch (IllegalArgumentException ex) {
                error("upstream.tpm", ex.getMessage());
            }
        }
        if (!pcrs.isEmpty()) {
            try {
                dev.outpost.tpm.wire.PcrSelection sel = dev.outpost.tpm.wire.PcrSelection.parse(pcrs);
                if (!sel.banks().equals(java.util.List.of(dev.outpost.tpm.HashAlg.SHA256))) {
                    error("ca.sealPcrs", "only the sha256 bank, e.g. sha256:0,2,4,7; got " + show(pcrs));
                }
            } catch (IllegalArgumentException ex) {
                error("ca.sealPcrs", ex.getMessage());
            }
        }
    }

    private void audit(ApplianceConfig.Audit a, ApplianceConfig.Upstream u) {
        if (!"none".equals(a.anchor()) && !"tpm".equals(a.anchor())) {
            error("audit.anchor", "must be none or tpm, got " + a.anchor());
        }
        positive("audit.anchorInterval", a.anchorInterval());
        try {
            dev.outpost.tpm.nvanchor.ExtendIndex.checkIndex(a.nvIndex());
        } catch (RuntimeException e) {
            error("audit.anchorNvIndex", "must be a hex NV index in the owner range 0x01000000..0x013fffff, got "
                    + a.anchorNvIndex());
        }
        if (a.tpm() && (u == null || u.tpm() == null)) {
            error("upstream.tpm", "audit.anchor: tpm needs the gateway's TPM, e.g. device:/dev/tpmrm0");
        }
    }

    private void outbox(ApplianceConfig.Outbox o) {
        if (o.maxRows() < 100) {
            error("outbox.maxRows", "must be at least 100, got " + o.maxRows());
        }
        if (o.maxBytes() < 1024 * 1024) {
            error("outbox.maxBytes", "must be at least 1048576 (1 MiB), got " + o.maxBytes());
        }
        positive("outbox.sentRetention", o.sentRetention());
        if (o.batchRows() < 1 || o.batchRows() > 500) {
            error("outbox.batchRows", "must be 1..500 (central takes at most 500 events a batch), got " + o.batchRows());
        }
        if (positive("outbox.summaryEvery", o.summaryEvery()) && o.summaryEvery().compareTo(Duration.ofMinutes(1)) < 0) {
            error("outbox.summaryEvery", "must be at least PT1M, got " + o.summaryEvery());
        }
    }

    private void retention(ApplianceConfig.Retention r) {
        boolean audit = positive("retention.audit", r.audit());
        if (positive("retention.auditLasting", r.auditLasting()) && audit && r.auditLasting().compareTo(r.audit()) < 0) {
            error("retention.auditLasting", "must be at least retention.audit (" + r.audit() + "): revocations and "
                    + "operator actions are kept longer than routine rows, never shorter; got " + r.auditLasting());
        }
        positive("retention.svids", r.svids());
        if (positive("retention.every", r.every()) && r.every().compareTo(Duration.ofSeconds(1)) < 0) {
            error("retention.every", "must be at least PT1S, got " + r.every());
        }
        if (r.batchSize() < 10 || r.batchSize() > 100_000) {
            error("retention.batchSize", "must be 10..100000, got " + r.batchSize());
        }
    }

    private void attestation(ApplianceConfig.Attestation a) {
        boolean interval = positive("attestation.interval", a.interval());
        boolean freshness = positive("attestation.freshness", a.freshness());
        positive("attestation.challengeTtl", a.challengeTtl());
        if (interval && freshness && a.freshness().compareTo(a.interval()) <= 0) {
            error("attestation.freshness", "must be longer than attestation.interval, or every device goes stale");
        }
        // Any positive interval is safe: the stale sweep counts the passes held in memory.
        positive("attestation.flushInterval", a.flushInterval());
        try {
            dev.outpost.tpm.wire.PcrSelection sel = dev.outpost.tpm.wire.PcrSelection.parse(String.valueOf(a.pcrs()));
            if (sel.banks().stream().noneMatch(b -> sel.pcrs(b).contains(10))) {
                error("attestation.pcrs", "must include PCR 10 (IMA) in some bank");
            }
        } catch (IllegalArgumentException ex) {
            error("attestation.pcrs", ex.getMessage());
        }
        if (a.maxEvidenceBytes() < 1 << 20 || a.maxEvidenceBytes() > 1L << 30) {
            error("attestation.maxEvidenceBytes", "must be 1 MiB..1 GiB, got " + a.maxEvidenceBytes());
        } else if (a.maxBufferedEvidenceBytes() != 0 && a.maxBufferedEvidenceBytes() < a.maxEvidenceBytes()) {
            error("attestation.maxBufferedEvidenceBytes", "must be 0 (a quarter of the heap) or at least "
                    + "attestation.maxEvidenceBytes (" + a.maxEvidenceBytes() + "), or no device could send a whole "
                    + "list; got " + a.maxBufferedEvidenceBytes());
        }
        webhook(a.webhook());
    }

    private void webhook(ApplianceConfig.Webhook w) {
        if (w == null) {
            return;
        }
        if (w.url() == null) {
            // A credential or an anchor for no receiver is a half-made setting, not one to ignore quietly.
            if (w.caFile() != null) {
                error("attestation.webhook.caFile", "set, but attestation.webhook.url is not");
            }
            if (w.authorizationFile() != null) {
                error("attestation.webhook.authorizationFile", "set, but attestation.webhook.url is not");
            }
            return;
        }
        java.net.URI uri;
        try {
            uri = new java.net.URI(w.url());
        } catch (java.net.URISyntaxException e) {
            error("attestation.webhook.url", "not a URL: " + e.getMessage());
            return;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (scheme.equals("http") && !w.allowInsecureHttp()) {
            error("attestation.webhook.url", "must be https:// (revocation events would cross the network in clear "
                    + "text to a receiver nobody authenticated); if the receiver is on this host, set "
                    + "attestation.webhook.allowInsecureHttp: true, got " + show(w.url()));
        } else if (!scheme.equals("https") && !scheme.equals("http")) {
            error("attestation.webhook.url", "must be an https:// URL or null, got " + show(w.url()));
        } else if (uri.getHost() == null) {
            error("attestation.webhook.url", "has no host: " + show(w.url()));
        }
        if (w.caFile() != null) {
            if (!scheme.equals("https")) {
                error("attestation.webhook.caFile", "only for an https:// URL (it says whom to trust for the receiver's "
                        + "certificate), got url " + show(w.url()));
            } else {
                absolute("attestation.webhook.caFile", w.caFile());
            }
        }
        if (w.authorizationFile() != null) {
            absolute("attestation.webhook.authorizationFile", w.authorizationFile());
        }
    }

    private void topicPrefix(String p) {
        if (p == null || p.isEmpty()) {
            error("mqtt.topicPrefix", "required");
            return;
        }
        if (p.length() > 256) {
            error("mqtt.topicPrefix", "longer than 256 characters");
        } else if (p.contains("+") || p.contains("#") || p.contains("\0")) {
            error("mqtt.topicPrefix", "must not contain the wildcards '+' or '#' (or NUL), got " + show(p));
        } else if (p.startsWith("/") || p.endsWith("/") || p.contains("//") || p.startsWith("$")) {
            error("mqtt.topicPrefix", "must be topic levels joined by '/', without empty levels or a leading '$', got " + show(p));
        }
    }

    private void port(String path, int port) {
        // 0 asks the kernel for a free port: tests and one-shot demos use it.
        if (port < 0 || port > 65535) {
            error(path, "must be 0..65535 (0: any free port), got " + port);
        }
    }

    private void host(String path, String host) {
        if (host == null || host.isBlank()) {
            error(path, "required");
        } else if (host.length() > 253 || !host.matches("[A-Za-z0-9.:_\\[\\]-]+")) {
            error(path, "not a host name or address: " + show(host));
        }
    }

    private boolean absolute(String path, Path p) {
        if (p == null) {
            error(path, "required");
            return false;
        }
        if (!p.isAbsolute()) {
            error(path, "must be an absolute path, got " + p);
            return false;
        }
        return true;
    }

    private boolean positive(String path, Duration d) {
        if (d == null) {
            error(path, "required");
            return false;
        }
        if (d.isNegative() || d.isZero()) {
            error(path, "must be positive, got " + d);
            return false;
        }
        return true;
    }

    private void error(String path, String reason) {
        errors.add(path + ": " + reason);
    }

    private static String show(String s) {
        return s == null ? "nothing" : "'" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "'";
    }
}
