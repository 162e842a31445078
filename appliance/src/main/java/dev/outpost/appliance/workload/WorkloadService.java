package dev.outpost.appliance.workload;

import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.ca.IssuedSvid;
import dev.outpost.appliance.ca.JwtAuthority;
import dev.outpost.appliance.ca.WorkloadSvidSigner;
import dev.outpost.appliance.refusal.Refusal;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.mqtt.protocol.WorkloadJwtRequest;
import dev.outpost.spiffe.CsrException;
import dev.outpost.spiffe.SpiffeId;

/**
 * The device's side of workload identity (docs/workload-api.md): the entries a node may serve, and workload X509- and
 * JWT-SVIDs for them. Every issuance is checked here, in order, and the first failure is the answer: the device is
 * trusted now with a fresh pass; the entry exists and this node holds its parent selectors now; for X509 the CSR asks
 * for nothing else; with {@code ima:verified}, the device's runtime policy allows the binary. Each issuance and each
 * refusal is audited. Blocking (JDBC): call it on a worker.
 */
public final class WorkloadService {
    private static final Logger LOG = LoggerFactory.getLogger(WorkloadService.class);
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    static final int MAX_AUDIENCE_CHARS = 256;
    static final int MAX_IMA_PATH = 4096;

    /** Whether the device's runtime policy allows a binary: empty when it does, else why not. */
    @FunctionalInterface
    public interface ImaCheck {
        Optional<String> refusal(String deviceId, String path, byte[] sha256);
    }

    /** What a workload asked for, decoded: the binary's measurement when the entry needs {@code ima:verified}. */
    public record Measurement(String path, String sha256Hex) {
    }

    /** An issued X509-SVID with the entry it was issued under. */
    public record X509(Entry entry, IssuedSvid svid) {
    }

    /** An issued JWT-SVID. */
    public record Jwt(Entry entry, String token, Instant expiresAt) {
    }

    private final DeviceStore devices;
    private final NodeSelectors nodes;
    private final EntryStore entries;
    private final Function<String, Optional<Instant>> freshPass;
    private final ImaCheck ima;
    private final WorkloadSvidSigner signer;
    private final JwtAuthority jwt;
    private final Duration svidTtl;
    private final AuditLog audit;
    private final Clock clock;

    /**
     * @param freshPass the device's last pass when it is trusted and that pass is within the freshness window
     * @param svidTtl   {@code ca.svidTtl}: how long any identity may outlive the pass that earned it
     */
    public WorkloadService(DeviceStore devices, NodeSelectors nodes, EntryStore entries,
            Function<String, Optional<Instant>> freshPass, ImaCheck ima, WorkloadSvidSigner signer, JwtAuthority jwt,
            Duration svidTtl, AuditLog audit, Clock clock) {
        this.devices = devices;
        this.nodes = nodes;
        this.entries = entries;
        this.freshPass = freshPass;
        this.ima = ima;
        this.signer = signer;
        this.jwt = jwt;
        this.svidTtl = svidTtl;
        this.audit = audit;
        this.clock = clock;
    }

    public long revision() {
        return entries.revision();
    }

    /** Every entry whose parent selectors the node holds now, with the revision they are at. */
    public EntryStore.Snapshot entriesFor(String deviceId) throws Refusal {
        DeviceRecord d = device(deviceId, "entries");
        if (d.state() == DeviceState.REVOKED) {
            throw deny(deviceId, "entries", Refusal.Why.REVOKED, "device is revoked");
        }
        if (d.state() == DeviceState.FAILED) {
            throw deny(deviceId, "entries", Refusal.Why.ATTESTATION_FAILED, "device failed attestation");
        }
        EntryStore.Snapshot all = entries.snapshot();
        List<String> held = nodes.of(d);
        List<Entry> mine = all.entries().stream().filter(e -> e.matches(held)).toList();
        if (mine.size() > dev.outpost.mqtt.protocol.Entries.MAX_ENTRIES) {
            // Entries made before this node enrolled escape the limit at create; one reply carries the oldest ones.
            LOG.warn("device {} matches {} entries; its agent gets the oldest {} (delete some: entry list)", deviceId,
                    mine.size(), dev.outpost.mqtt.protocol.Entries.MAX_ENTRIES);
            mine = mine.subList(0, dev.outpost.mqtt.protocol.Entries.MAX_ENTRIES);
        }
        return new EntryStore.Snapshot(all.revision(), mine);
    }

    public X509 x509(String deviceId, String entryId, byte[] csr, Measurement m) throws Refusal {
        String action = "workload-svid";
        Trusted t = trustedNow(deviceId, action);
        Instant passed = t.passed();
        Entry e = entryFor(t.device(), entryId, action);
        PublicKey key;
        try {
            key = WorkloadCsr.check(csr, e);
        } catch (CsrException ex) {
            throw deny(deviceId, action, Refusal.Why.MALFORMED, "entry " + e.id() + ": " + ex.getMessage());
        }
        checkIma(deviceId, e, m, action);
        Instant end = min(clock.instant().plus(e.x509Ttl()), passed.plus(svidTtl));
        IssuedSvid svid;
        try {
            svid = signer.issue(key, SpiffeId.parse(e.spiffeId()), e.dnsNames(), end);
        } catch (IllegalArgumentException ex) {
            throw deny(deviceId, action, Refusal.Why.MALFORMED, "entry " + e.id() + ": " + ex.getMessage());
        }
        audit.record(AuditEvent.of(clock.instant(), deviceId, action, AuditEvent.Decision.ALLOW, "issued " + e.spiffeId()
                + " under entry " + e.id() + ", serial " + svid.serialHex() + ", until " + svid.notAfter(), null));
        return new X509(e, svid);
    }

    public Jwt jwt(String deviceId, String entryId, List<String> audience, Measurement m) throws Refusal {
        String action = "workload-jwt";
        checkAudience(deviceId, audience, action);
        Trusted t = trustedNow(deviceId, action);
        Instant passed = t.passed();
        Entry e = entryFor(t.device(), entryId, action);
        checkIma(deviceId, e, m, action);
        Instant now = clock.instant();
        // JWT times are whole seconds: the reply's expiresAt is the token's exp.
        Instant exp = min(now.plus(e.jwtTtl()), passed.plus(svidTtl)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        if (!exp.isAfter(now)) {
            throw deny(deviceId, action, Refusal.Why.NO_FRESH_ATTESTATION, "nothing left of the node's identity window");
        }
        String jti = UUID.randomUUID().toString();
        String token = jwt.sign(e.spiffeId(), audience, now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS), exp, jti);
        audit.record(AuditEvent.of(now, deviceId, action, AuditEvent.Decision.ALLOW, "issued " + e.spiffeId()
                + " under entry " + e.id() + " for " + audience + ", jti " + jti + ", until " + exp, null));
        return new Jwt(e, token, exp);
    }

    private DeviceRecord device(String deviceId, String action) throws Refusal {
        return devices.find(deviceId).orElseThrow(() -> deny(deviceId, action, Refusal.Why.NOT_ENROLLED,
                "device is not enrolled"));
    }

    private record Trusted(DeviceRecord device, Instant passed) {
    }

    /** The device and its last pass when it is trusted now; else the refusal its state calls for. */
    private Trusted trustedNow(String deviceId, String action) throws Refusal {
        DeviceRecord d = device(deviceId, action);
        switch (d.state()) {
            case REVOKED -> throw deny(deviceId, action, Refusal.Why.REVOKED, "device is revoked");
            case FAILED -> throw deny(deviceId, action, Refusal.Why.ATTESTATION_FAILED, "device failed attestation");
            case TRUSTED -> { }
            default -> throw deny(deviceId, action, Refusal.Why.NOT_TRUSTED, "device is " + d.state().dbValue()
                    + ", not trusted: workload identities need a passing attestation");
        }
        Instant passed = freshPass.apply(deviceId).orElseThrow(() -> deny(deviceId, action, Refusal.Why.NOT_TRUSTED,
                "no passing attestation within the freshness window"));
        if (!passed.plus(svidTtl).isAfter(clock.instant())) {
            throw deny(deviceId, action, Refusal.Why.NOT_TRUSTED, "the last pass is older than ca.svidTtl");
        }
        return new Trusted(d, passed);
    }

    /** The entry, when it exists and this node holds its parents now; one answer for both, so ids are not probed. */
    private Entry entryFor(DeviceRecord d, String entryId, String action) throws Refusal {
        Optional<Entry> e = entryId == null ? Optional.empty() : entries.find(entryId);
        if (e.isEmpty() || !e.get().matches(nodes.of(d))) {
            throw deny(d.deviceId(), action, Refusal.Why.NOT_YOURS, "no such entry for this node: "
                    + EntryRules.show(String.valueOf(entryId)));
        }
        return e.get();
    }

    private void checkIma(String deviceId, Entry e, Measurement m, String action) throws Refusal {
        if (!e.needsIma()) {
            return;
        }
        if (m == null || m.path() == null || m.sha256Hex() == null) {
            throw deny(deviceId, action, Refusal.Why.NOT_YOURS, "entry " + e.id() + " needs ima:verified and the request "
                    + "names no measured binary (imaPath, imaSha256)");
        }
        if (!SHA256_HEX.matcher(m.sha256Hex()).matches()) {
            throw deny(deviceId, action, Refusal.Why.MALFORMED, "imaSha256 must be 64 lowercase hex characters");
        }
        if (!m.path().startsWith("/") || m.path().length() > MAX_IMA_PATH || m.path().chars().anyMatch(Character::isISOControl)) {
            throw deny(deviceId, action, Refusal.Why.MALFORMED, "imaPath must be an absolute path of at most "
                    + MAX_IMA_PATH + " characters");
        }
        // The measurement must be of the workload the entry names, not of any binary the policy happens to allow.
        for (String s : e.selectors()) {
            if (s.startsWith("unix:path:") && !s.substring("unix:path:".length()).equals(m.path())) {
                throw deny(deviceId, action, Refusal.Why.NOT_YOURS, "imaPath " + EntryRules.show(m.path())
                        + " is not the entry's " + s);
            }
            if (s.startsWith("unix:sha256:") && !s.substring("unix:sha256:".length()).equals(m.sha256Hex())) {
                throw deny(deviceId, action, Refusal.Why.NOT_YOURS, "imaSha256 is not the entry's " + s);
            }
        }
        Optional<String> why = ima.refusal(deviceId, m.path(), HexFormat.of().parseHex(m.sha256Hex()));
        if (why.isPresent()) {
            throw deny(deviceId, action, Refusal.Why.NOT_YOURS, "ima:verified does not hold: " + why.get());
        }
    }

    private void checkAudience(String deviceId, List<String> audience, String action) throws Refusal {
        if (audience == null || audience.isEmpty() || audience.size() > WorkloadJwtRequest.MAX_AUDIENCES) {
            throw deny(deviceId, action, Refusal.Why.MALFORMED, "audience must hold 1.." + WorkloadJwtRequest.MAX_AUDIENCES
                    + " values");
        }
        for (String a : audience) {
            if (a == null || a.isEmpty() || a.length() > MAX_AUDIENCE_CHARS || a.chars().anyMatch(Character::isISOControl)) {
                throw deny(deviceId, action, Refusal.Why.MALFORMED, "each audience must be 1.." + MAX_AUDIENCE_CHARS
                        + " characters without control characters");
            }
        }
    }

    private Refusal deny(String deviceId, String action, Refusal.Why why, String reason) {
        if (audit.recordRefusal(AuditEvent.of(clock.instant(), deviceId, action, AuditEvent.Decision.DENY,
                why + ": " + reason, null))) {
            LOG.warn("{} {} denied: {} {}", action, deviceId, why, reason);
        }
        return new Refusal(why, reason);
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
