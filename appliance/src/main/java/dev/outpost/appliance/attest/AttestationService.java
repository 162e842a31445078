package dev.outpost.appliance.attest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.refusal.Refusal;
import dev.outpost.appliance.store.AttestationRecord;
import dev.outpost.appliance.store.AttestationStore;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaLists;
import dev.outpost.ima.verify.ImaFailure;
import dev.outpost.ima.verify.ImaState;
import dev.outpost.ima.verify.ImaStateCodec;
import dev.outpost.ima.verify.ImaVerificationResult;
import dev.outpost.ima.verify.IncrementalImaVerifier;
import dev.outpost.ima.verify.QuotedPcr;
import dev.outpost.ima.verify.ViolationHandling;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.quote.QuoteResult;
import dev.outpost.tpm.quote.QuoteVerifier;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmsAttest;

/**
 * The local verifier: issues challenges and judges evidence — quote, TPM counters, boot log, new IMA entries —
 * against the device's enrolled keys and assigned policies, then records the verdict and the device's new state
 * in one transaction. Blocking (JDBC, hashing): callers run it on a worker.
 */
public final class AttestationService {
    private static final Logger LOG = LoggerFactory.getLogger(AttestationService.class);
    private static final int NONCE_BYTES = 32;
    private static final int MAX_REASONS = 20;

    private final DeviceStore devices;
    private final AttestationStore attestations;
    private final PolicyStore policies;
    private final AuditLog audit;
    private final Revocations revocations;
    private final AttestationSettings settings;
    private final SecureRandom random;
    private final Clock clock;
    private final Quarantine quarantine;
    private final PendingChallenges pending;
    private final boolean quotesBootPcrs;
    private final PolicyCache cache = new PolicyCache();
    private final QuoteVerifier quoteVerifier = new QuoteVerifier();
    private final EnrolledKeys enrolledKeys = new EnrolledKeys();
    private volatile dev.outpost.appliance.metrics.VerdictObserver verdicts = dev.outpost.appliance.metrics.VerdictObserver.NONE;

    public AttestationService(DeviceStore devices, AttestationStore attestations, PolicyStore policies, AuditLog audit,
            Revocations revocations, AttestationSettings settings, SecureRandom random, Clock clock, Quarantine quarantine) {
        this.devices = devices;
        this.attestations = attestations;
        this.policies = policies;
        this.audit = audit;
        this.revocations = revocations;
        this.settings = settings;
        this.random = random;
        this.clock = clock;
        this.quarantine = quarantine;
        this.pending = new PendingChallenges(settings.maxBufferedEvidenceBytes());
        this.quotesBootPcrs = coversBootPcrs(settings.pcrs());
    }

    public IssuedChallenge challenge(String deviceId) throws Refusal {
        DeviceRecord d = enrolled(deviceId);
        return issue(deviceId, attestations.get(d.deviceId()),
                policies.resolve(deviceId, PolicyStore.Kind.RUNTIME).orElse(null),
                policies.resolve(deviceId, PolicyStore.Kind.BOOT).orElse(null));
    }

    /**
     * {@link #challenge} from memory only: the device's row, its attestation record and its policy assignments as
     * last committed, for the endpoint's event loop, which must not wait on the database. Empty when any of them is
     * not in memory, or the device is one {@link #challenge} refuses: then {@link #challenge} runs on a worker.
     */
    public Optional<IssuedChallenge> challengeFromMemory(String deviceId) {
        DeviceRecord d = devices.cached(deviceId).orElse(null);
        if (d == null || d.state().heldByOperator()) {
            return Optional.empty();
        }
        AttestationRecord rec = attestations.cached(deviceId);
        Optional<String> runtime = policies.resolvedInMemory(deviceId, PolicyStore.Kind.RUNTIME);
        Optional<String> boot = policies.resolvedInMemory(deviceId, PolicyStore.Kind.BOOT);
        if (rec == null || runtime == null || boot == null) {
            return Optional.empty();
        }
        return Optional.of(issue(deviceId, rec, runtime.orElse(null), boot.orElse(null)));
    }

    private IssuedChallenge issue(String deviceId, AttestationRecord rec, String runtime, String boot) {
        ImaState stored = imaState(rec, runtime);
        long offset = stored == null ? 0 : IncrementalImaVerifier.startState(stored, bootId(rec.resetCount()),
                imaBank()).nextIndex();
        boolean wantBoot = quotesBootPcrs && (!rec.bootVerified() || !java.util.Objects.equals(boot, rec.bootPolicy()));
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        Instant expires = clock.instant().plus(settings.challengeTtl());
        pending.put(deviceId, new PendingChallenges.Pending(nonce, settings.pcrs(), offset, wantBoot, expires));
        return new IssuedChallenge(nonce.clone(), settings.pcrs(), offset, wantBoot, settings.maxChunkBytes(), expires);
    }

    public EvidenceOutcome evidence(String deviceId, EvidencePart req) throws Refusal {
        PendingChallenges.Pending p = pending.match(deviceId, req.nonce());
        if (p == null) {
            throw deny(deviceId, Refusal.Why.NOT_YOURS, "the nonce is not the one issued to this device "
                    + "(replayed, stale, or another device's evidence)");
        }
        if (clock.instant().isAfter(p.expiresAt)) {
            pending.consume(deviceId, p);
            throw deny(deviceId, Refusal.Why.EXPIRED, "the challenge expired at " + p.expiresAt);
        }
        synchronized (p) {
            if (req.part() != p.nextPart) {
                pending.consume(deviceId, p);
                throw deny(deviceId, Refusal.Why.MALFORMED, "evidence part " + req.part() + ", expected " + p.nextPart);
            }
            byte[] ima = req.ima();
            byte[] boot = req.bootLog();
            long size = (long) ima.length + boot.length;
            if (p.bytes() + size > settings.maxEvidenceBytes()) {
                pending.consume(deviceId, p);
                throw deny(deviceId, Refusal.Why.TOO_LARGE, "evidence over " + settings.maxEvidenceBytes() + " bytes");
            }
            if (!pending.reserve(p, size)) {
                // Not this device's fault: others' evidence fills the appliance. Its challenge is dropped so its
                // bytes go too, and it starts over after a pause; no refusal row, this is load, not a decision.
                pending.consume(deviceId, p);
                LOG.info("evidence from {} deferred: {} bytes buffered, the limit is {}", deviceId,
                        pending.bufferedBytes(), pending.maxBufferedBytes());
                throw new Refusal(Refusal.Why.BUSY, "the appliance is busy verifying other devices' "
                        + "evidence; ask for a new challenge in a few seconds");
            }
            p.ima.writeBytes(ima);
            p.boot.writeBytes(boot);
            if (req.more()) {
                p.nextPart++;
                return new EvidenceOutcome.PartAccepted(req.part());
            }
            pending.consume(deviceId, p);
        }
        return verdicts.judged(System.nanoTime(), judge(deviceId, p, req));
    }

    public void observe(dev.outpost.appliance.metrics.VerdictObserver o) { verdicts = o; }

    /** Drops expired challenges and what they buffered; the appliance calls this on a timer. */
    public int purgeExpiredChallenges() {
        return pending.purgeExpired(clock.instant(), settings.challengeTtl());
    }

    /** Evidence bytes buffered for all devices right now. */
    public long bufferedEvidenceBytes() {
        return pending.bufferedBytes();
    }

    private EvidenceOutcome.Verdict judge(String deviceId, PendingChallenges.Pending p, EvidencePart req) throws Refusal {
        DeviceRecord d = enrolled(deviceId);
        AttestationRecord prev = attestations.get(deviceId);
        Instant now = clock.instant();
        List<String> reasons = new ArrayList<>();

        // 1. The quote: nothing else is believed before it verifies.
        TpmsAttest quote = null;
        PcrValues pcrs = null;
        try {
            pcrs = PcrFile.read(req.pcrs());
            QuoteResult r = quoteVerifier.verify(enrolledKeys.expectation(d, p.nonce, p.selection), req.attest(),
                    req.signature(), pcrs);
            if (r.isValid()) {
                quote = r.attest();
            } else {
                reasons.add("quote." + r.failure().name() + ": " + r.detail());
            }
        } catch (TpmFormatException e) {
            reasons.add("quote.MALFORMED: " + e.getMessage());
        }
        if (quote == null) {
            return conclude(d, prev, null, reasons, DeviceState.FAILED, prev.imaState(), prev.bootVerified(), now);
        }

        // 2. Counters: a reset means a reboot (start over); anything going backwards without one is a lie.
        TpmsAttest.ClockInfo ci = quote.clockInfo();
        long reset = Integer.toUnsignedLong(ci.resetCount());
        long restart = Integer.toUnsignedLong(ci.restartCount());
        TpmCounters.Check counters = TpmCounters.check(prev, ci);
        boolean rebooted = counters.rebooted();
        if (counters.problem() != null) {
            reasons.add(counters.problem());
            return conclude(d, prev, quote, reasons, DeviceState.FAILED, prev.imaState(), prev.bootVerified(), now);
        }
        if (rebooted && (p.imaOffset != 0 || (!p.wantBootLog && quotesBootPcrs))) {
            reasons.add("tpm.reboot: resetCount " + prev.resetCount() + " → " + reset
                    + "; attest again with the whole IMA list and the boot log");
            return conclude(d, prev, quote, reasons, DeviceState.PENDING, null, false, now);
        }

        // 3. The boot log, when asked for: it must replay to the quoted PCRs and satisfy the policy.
        String bootPolicy = policies.resolve(deviceId, PolicyStore.Kind.BOOT).orElse(null);
        boolean bootVerified = prev.bootVerified() && !rebooted;
        if (p.wantBootLog) {
            List<String> bootProblems = BootCheck.check(p.boot.toByteArray(), pcrs,
                    bootPolicy == null ? null : cache.boot(policies.get(bootPolicy).orElseThrow()));
            reasons.addAll(bootProblems);
            bootVerified = bootProblems.isEmpty();
        }

        // 4. The new IMA entries against the runtime policy.
        String runtime = policies.resolve(deviceId, PolicyStore.Kind.RUNTIME).orElse(null);
        byte[] nextIma = rebooted ? null : prev.imaState();
        if (runtime == null) {
            reasons.add("policy.none: no runtime policy is assigned to this device; it is held as pending");
        } else {
            ImaState stored = rebooted ? null : imaState(prev, runtime);
            HashAlg bank = imaBank();
            byte[] pcr10 = pcrs.get(bank, 10).orElse(null);
            long expectedOffset = stored == null ? 0
                    : IncrementalImaVerifier.startState(stored, bootId(reset), bank).nextIndex();
            if (pcr10 == null) {
                reasons.add("ima.pcr: PCR 10 of the " + bank + " bank was not quoted");
            } else if (p.imaOffset != expectedOffset) {
                reasons.add("ima.offset: evidence starts at entry " + p.imaOffset + ", the appliance expects " + expectedOffset);
            } else {
                try {
                    ImaVerificationResult r = new IncrementalImaVerifier(cache.runtime(policies.get(runtime).orElseThrow()),
                            settings.violations()).verify(stored, bootId(reset), new QuotedPcr(bank, pcr10),
                                    ImaLists.open(new ByteArrayInputStream(p.ima.toByteArray()), ImaLimits.DEFAULT, p.imaOffset));
                    for (ImaFailure f : r.failures()) {
                        if (reasons.size() < MAX_REASONS) {
                            reasons.add(f.eventId() + ": " + (f.path() == null ? "" : f.path() + " ") + "(entry " + f.index()
                                    + ") " + (f.message() == null ? "" : f.message()));
                        }
                    }
                    if (!r.passed() && r.failures().isEmpty()) {
                        reasons.add("ima.replay: no prefix of the entries replays to the quoted PCR 10");
                    }
                    if (r.violations() > 0) {
                        LOG.info("device {}: {} IMA violation(s) in this attestation, {} since boot ({})", deviceId,
                                r.violations(), r.violationsSinceBoot(), settings.violations() == ViolationHandling.FAIL
                                        ? "failing, attestation.failOnImaViolations" : "counted, paths not judged");
                    }
                    nextIma = ImaStateCodec.encode(r.nextState());
                } catch (IOException | RuntimeException e) {
                    reasons.add("ima.input: " + e.getMessage());
                    nextIma = null;
                }
            }
        }
        DeviceState state;
        if (reasons.stream().anyMatch(r -> !r.startsWith("policy.none"))) {
            state = DeviceState.FAILED;
        } else if (runtime == null) {
            state = DeviceState.PENDING;
        } else {
            state = DeviceState.TRUSTED;
        }
        return conclude(d, new AttestationRecord(deviceId, reset, restart, ci.clock(), nextIma, bootVerified, runtime,
                bootPolicy, null, null, prev.lastAttestedAt(), prev.lastPassedAt()), quote, reasons, state, nextIma,
                bootVerified, now);
    }

    private EvidenceOutcome.Verdict conclude(DeviceRecord d, AttestationRecord base, TpmsAttest quote, List<String> reasons,
            DeviceState state, byte[] ima, boolean bootVerified, Instant now) {
        Long reset = quote == null ? base.resetCount() : Long.valueOf(Integer.toUnsignedLong(quote.clockInfo().resetCount()));
        Long restart = quote == null ? base.restartCount()
                : Long.valueOf(Integer.toUnsignedLong(quote.clockInfo().restartCount()));
        Long tpmClock = quote == null ? base.tpmClock() : Long.valueOf(quote.clockInfo().clock());
        AttestationRecord rec = new AttestationRecord(d.deviceId(), reset, restart, tpmClock,
                state == DeviceState.FAILED ? null : ima, state == DeviceState.FAILED ? false : bootVerified,
                base.runtimePolicy(), base.bootPolicy(), state.dbValue(), String.join("\n", reasons), now,
                state == DeviceState.TRUSTED ? now : base.lastPassedAt());
        boolean routine = state == DeviceState.TRUSTED && d.state() == DeviceState.TRUSTED;
        boolean stored = true;
        String summary = reasons.isEmpty() ? "attestation passed" : String.join("; ", reasons);
        if (routine) {
            attestations.recordRoutinePass(rec);
        } else {
            // Every refusal is audited; a pass only when it changes the device's state: a site of thousands of devices
            // attesting every minute would otherwise write millions of identical rows a day.
            stored = attestations.recordVerdict(rec, state, now, audit, AuditEvent.of(now, d.deviceId(), "attest",
                    state == DeviceState.TRUSTED ? AuditEvent.Decision.ALLOW
                            : state == DeviceState.FAILED ? AuditEvent.Decision.DENY : AuditEvent.Decision.INFO,
                    summary, null));
        }
        if (state == DeviceState.FAILED) {
            quarantine.hold(d.deviceId());
        }
        if (state != DeviceState.FAILED && stored && state != d.state()) {
            LOG.info("device {}: {} -> {} ({})", d.deviceId(), d.state().dbValue(), state.dbValue(), summary);
        }
        if (state == DeviceState.FAILED && stored && d.state() != DeviceState.FAILED) {
            LOG.warn("device {} failed attestation: {}", d.deviceId(), summary);
            revocations.revoke(d.deviceId(), "attestation failed: " + (reasons.isEmpty() ? "" : reasons.get(0)));
        }
        // An SVID may be issued on this verdict only if it is a pass that was stored (not when an operator revoked
        // the device meanwhile).
        Optional<Instant> passed = state == DeviceState.TRUSTED && stored ? Optional.of(now) : Optional.empty();
        return new EvidenceOutcome.Verdict(state, List.copyOf(reasons), now.plus(settings.interval()), passed);
    }

    /** Writes the routine passes held in memory (see {@link AttestationStore#recordRoutinePass}). */
    public int flush() {
        return attestations.flush();
    }

    /** Writes the routine passes that have waited at least {@code held} (see {@link AttestationStore#flushHeldFor}). */
    public int flushHeldFor(java.time.Duration held) {
        return attestations.flushHeldFor(held);
    }

    /** Trusted devices that have not passed within the freshness window turn stale and lose their identity. */
    public List<String> sweepStale() {
        Instant now = clock.instant();
        List<String> stale = new ArrayList<>();
        for (String id : attestations.trustedNotPassedSince(now.minus(settings.freshness()))) {
            String why = "no passing attestation within " + settings.freshness();
            if (devices.setState(id, DeviceState.STALE, now, List.of(why), audit,
                    AuditEvent.of(now, id, "stale", AuditEvent.Decision.DENY, why, null))) {
                revocations.revoke(id, "stale: no passing attestation within " + settings.freshness());
                stale.add(id);
            }
        }
        return stale;
    }

    /**
     * The device's last pass, if it is trusted now and that pass is within the freshness window: what an SVID issued
     * outside an attestation ({@code csr}) may be based on.
     */
    public Optional<Instant> freshPass(String deviceId) {
        DeviceRecord d = devices.find(deviceId).orElse(null);
        AttestationRecord a = attestations.get(deviceId);
        if (d == null || d.state() != DeviceState.TRUSTED || a.lastPassedAt() == null) {
            return Optional.empty();
        }
        return a.lastPassedAt().plus(settings.freshness()).isAfter(clock.instant()) ? Optional.of(a.lastPassedAt())
                : Optional.empty();
    }

    /**
     * Whether the device's runtime policy allows {@code sha256} for the file at {@code path} (the {@code ima:verified}
     * workload selector): empty when it does, else why not. An excluded path is not allowed: exclusion means the policy
     * says nothing about that file, which verifies nothing.
     */
    public Optional<String> imaRefusal(String deviceId, String path, byte[] sha256) {
        String runtime = policies.resolve(deviceId, PolicyStore.Kind.RUNTIME).orElse(null);
        if (runtime == null) {
            return Optional.of("no runtime policy is assigned to this device");
        }
        PolicyStore.Policy p = policies.get(runtime).orElse(null);
        if (p == null) {
            return Optional.of("runtime policy " + runtime + " is gone");
        }
        return switch (cache.runtime(p).lookupFile(path, HashAlg.SHA256, sha256)) {
            case MATCH -> Optional.empty();
            case NOT_LISTED -> Optional.of("runtime policy " + runtime + " does not list " + path);
            case MISMATCH -> Optional.of("runtime policy " + runtime + " does not allow that SHA-256 for " + path);
        };
    }

    /**
     * The operator reviewed a device: it is pending again, forgets what was verified, may connect again and must
     * pass a full attestation (whole IMA list, boot log). False when there is no such device or it is revoked.
     */
    public boolean clear(String deviceId) {
        Instant now = clock.instant();
        AuditEvent cleared = AuditEvent.of(now, deviceId, "clear", AuditEvent.Decision.INFO,
                "cleared by operator: full re-attestation required", "operator");
        // The state, its audit record and the reset of what it was verified against commit together.
        if (!attestations.reset(deviceId, c -> devices.clear(c, deviceId, now, audit, cleared))) {
            return false;
        }
        quarantine.release(deviceId);
        return true;
    }

    /**
     * The device, if it may attest at all: enrolled, not revoked, and not failed. A failed device stays failed
     * whatever it sends next (after a reboot, a reconnect, an honest quote): the failure may have left no trace in
     * the PCRs (a narrowed quote, a withheld log), so one good attestation proves nothing about what came before.
     */
    private DeviceRecord enrolled(String deviceId) throws Refusal {
        DeviceRecord d = devices.find(deviceId).orElse(null);
        if (d == null) {
            throw new Refusal(Refusal.Why.NOT_ENROLLED, "device is not enrolled");
        }
        if (d.state() == DeviceState.REVOKED) {
            throw new Refusal(Refusal.Why.REVOKED, "device is revoked: " + d.revokeReason());
        }
        if (d.state() == DeviceState.FAILED) {
            throw new Refusal(Refusal.Why.ATTESTATION_FAILED,
                    "device failed attestation; it is refused until an operator clears it (device clear)");
        }
        return d;
    }

    private ImaState imaState(AttestationRecord rec, String runtimePolicy) {
        // A different policy than the state was verified against: verify everything again under the new one.
        if (rec.imaState() == null || !java.util.Objects.equals(runtimePolicy, rec.runtimePolicy())) {
            return null;
        }
        try {
            return ImaStateCodec.decode(rec.imaState());
        } catch (RuntimeException e) {
            // A stored state this version cannot read: verify the whole list again rather than refuse the device.
            LOG.warn("device {}: stored IMA state unreadable ({}); verifying from entry 0", rec.deviceId(), e.getMessage());
            return null;
        }
    }

    /**
     * Whether the quote covers any of PCRs 0-9, which only the boot log can explain. A site whose devices have no
     * boot log (no UEFI) leaves those PCRs out of {@code attestation.pcrs}; then no log is asked for.
     */
    private static boolean coversBootPcrs(PcrSelection selection) {
        for (HashAlg bank : HashAlg.values()) {
            for (int pcr : selection.pcrs(bank)) {
                if (pcr <= 9) {
                    return true;
                }
            }
        }
        return false;
    }

    private HashAlg imaBank() {
        return settings.pcrs().pcrs(HashAlg.SHA256).contains(10) ? HashAlg.SHA256 : HashAlg.SHA1;
    }

    private static String bootId(Long resetCount) {
        return "reset-" + (resetCount == null ? "unknown" : resetCount);
    }

    private Refusal deny(String deviceId, Refusal.Why code, String reason) {
        if (audit.recordRefusal(AuditEvent.of(clock.instant(), deviceId, "evidence", AuditEvent.Decision.DENY,
                code + ": " + reason, null))) {
            LOG.warn("evidence from {} refused: {} {}", deviceId, code, reason);
        }
        return new Refusal(code, reason);
    }
}
