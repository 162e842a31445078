package dev.outpost.ima.verify;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.ima.list.ImaFormatException;
import dev.outpost.ima.replay.PcrReplay;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.ima.replay.TemplateHashChecker;
import dev.outpost.tpm.HashAlg;

/**
 * Verifies the entries a device sent since its last verified quote. The quote covers some prefix of them (IMA
 * appends to the list before, and independently of, the quote): the first prefix whose replay equals the quoted
 * PCR is evaluated against the policy and committed; later entries are left for the next quote. Any failure, a
 * reboot (another boot id) or a bank change starts over from entry 0. Violation entries are replayed (all-ones)
 * and counted; as in Keylime their paths are not judged, and they fail only under {@link ViolationHandling#FAIL}.
 * Stateless itself; thread-safe.
 */
public final class IncrementalImaVerifier {
    public static final int MAX_FAILURES = 1000;
    public static final int IMA_PCR = 10;

    /** Default bound on the entries held while a policy is still loading (see {@link PendingEvaluations}). */
    public static final long DEFAULT_MAX_PENDING_BYTES = 32L << 20;

    private final Future<CompiledPolicy> policy;
    private final ViolationHandling violationHandling;
    private final long maxPendingBytes;

    /** Keylime's default: violations are counted, not failed. */
    public IncrementalImaVerifier(CompiledPolicy policy) {
        this(policy, ViolationHandling.COUNT);
    }

    public IncrementalImaVerifier(CompiledPolicy policy, ViolationHandling violationHandling) {
        this(CompletableFuture.completedFuture(java.util.Objects.requireNonNull(policy, "policy")), violationHandling,
                0);
    }

    /**
     * A verifier whose policy may still be loading (on another thread): each call reads, checks and replays the
     * list meanwhile, holding the entries to judge (at most {@code maxPendingBytes} of them, estimated) until the
     * policy is there; the result is the same as with the loaded policy. A policy that fails to load makes each call
     * throw what the loader threw, whatever the list holds.
     */
    public IncrementalImaVerifier(Future<CompiledPolicy> policy, ViolationHandling violationHandling,
            long maxPendingBytes) {
        this.policy = java.util.Objects.requireNonNull(policy, "policy");
        this.violationHandling = java.util.Objects.requireNonNull(violationHandling, "violationHandling");
        if (maxPendingBytes < 0) {
            throw new IllegalArgumentException("maxPendingBytes < 0");
        }
        this.maxPendingBytes = maxPendingBytes;
    }

    /**
     * @param previous   state stored after the last pass, or null for a device never verified
     * @param bootId     the device's current boot identity
     * @param quote      PCR 10 from a quote whose signature and nonce were already verified
     * @param newEntries entries from {@code startState(previous, bootId, quote.bank()).nextIndex()} on, numbered so
     */
    public ImaVerificationResult verify(ImaState previous, String bootId, QuotedPcr quote, ImaEntryReader newEntries)
            throws IOException {
        java.util.Objects.requireNonNull(bootId, "bootId");
        java.util.Objects.requireNonNull(quote, "quote: use verifyWhole for an offline check without one");
        return run(startState(previous, bootId, quote.bank()), quote, newEntries);
    }

    /** Offline check of a whole list with no quote: every entry is evaluated; the replayed PCR is reported. */
    public ImaVerificationResult verifyWhole(ImaEntryReader entries, HashAlg bank) throws IOException {
        return run(ImaState.initial("", bank), null, entries);
    }

    /** Where the device must start sending from: the previous state if it still applies, else entry 0. */
    public static ImaState startState(ImaState previous, String bootId, HashAlg bank) {
        if (previous == null || !previous.bootId().equals(bootId) || previous.bank() != bank) {
            return ImaState.initial(bootId, bank);
        }
        return previous;
    }

    private ImaVerificationResult run(ImaState start, QuotedPcr quote, ImaEntryReader in) throws IOException {
        Keyring keys = new Keyring();
        for (byte[] der : start.learnedKeys()) {
            MeasuredKey k = MeasuredKey.parseOrNull(der);
            if (k == null) {
                throw new IllegalArgumentException("stored IMA state holds an unreadable key");
            }
            keys.add(k.keyId(), k.key());
        }
        Failures failures = new Failures();
        PendingEvaluations judge = new PendingEvaluations(policy, keys, maxPendingBytes, failures::add);
        TemplateHashChecker checker = null;
        PcrReplay replay = null;
        long expected = start.nextIndex();
        long read = 0;
        long violations = 0;
        long matchedEnd = -1;
        byte[] matchedPcr = null;
        byte[] matchedPadded = null;
        ReplayVariant variant = null;
        // An empty prefix matches only when continuing: at entry 0 a zero PCR means IMA measured nothing (not even
        // boot_aggregate), which must not pass as "nothing new".
        if (quote != null && start.nextIndex() > 0 && java.util.Arrays.equals(start.pcr(), quote.value())) {
            matchedEnd = start.nextIndex();
            matchedPcr = start.pcr();
            matchedPadded = start.paddedPcr();
            variant = ReplayVariant.NATIVE;
        }
        try {
            for (ImaEntry e = in.next(); e != null; e = in.next()) {
                read++;
                if (matchedEnd >= 0) {
                    // Beyond the quote: counted, not evaluated; it comes back with the next quote.
                    continue;
                }
                if (e.index() != expected) {
                    judge.failed(ImaFailure.list(EventIds.OFFSET, "entry index " + e.index() + " where "
                            + expected + " was expected"));
                    break;
                }
                expected++;
                if (replay == null) {
                    HashAlg logAlg = logHashAlg(e.templateHash().length);
                    checker = new TemplateHashChecker(e.templateHash().length == 32 ? null : logAlg);
                    replay = new PcrReplay(start.bank(), logAlg, start.pcr(), start.paddedPcr());
                }
                ImaFailure f = null;
                if (e.isViolation()) {
                    violations++;
                } else if (!checker.check(e)) {
                    f = new ImaFailure(e.index(), e.path(), e.template().templateName(), EventIds.TEMPLATE_HASH,
                            "template hash does not match the template data");
                }
                if (e.pcr() != IMA_PCR) {
                    f = f != null ? f : new ImaFailure(e.index(), e.path(), e.template().templateName(), EventIds.UNEXPECTED_PCR,
                            "entry extends PCR " + e.pcr() + ", only PCR 10 is replayed");
                } else {
                    replay.extend(e);
                }
                if (f == null && e.isViolation()) {
                    // Its digest is zero: there is no content to hold against the policy, and judging the path
                    // would fail every machine that ever wrote to a file while it was measured.
                    if (violationHandling == ViolationHandling.FAIL) {
                        f = new ImaFailure(e.index(), e.path(), e.template().templateName(), EventIds.VIOLATION,
                                "ToMToU/open-writers violation (all-zero template hash); this verifier is configured"
                                        + " to fail on violations");
                    }
                }
                if (f != null) {
                    judge.failed(f);
                } else if (!e.isViolation()) {
                    judge.evaluate(e);
                }
                if (quote != null) {
                    var m = replay.matches(quote.value());
                    if (m.isPresent()) {
                        matchedEnd = e.index() + 1;
                        variant = m.get();
                        matchedPcr = replay.value(ReplayVariant.NATIVE);
                        matchedPadded = replay.value(ReplayVariant.SHA1_PADDED);
                    }
                }
            }
        } catch (ImaFormatException ex) {
            judge.failed(ImaFailure.list(EventIds.PARSER, ex.getMessage()));
        }
        judge.finish();
        byte[] endPcr = replay == null ? start.pcr() : replay.value(ReplayVariant.NATIVE);
        if (quote == null) {
            matchedEnd = expected;
            matchedPcr = endPcr;
            matchedPadded = replay == null ? start.paddedPcr() : replay.value(ReplayVariant.SHA1_PADDED);
        } else if (matchedEnd < 0) {
            failures.add(ImaFailure.list(EventIds.PCR_MISMATCH, "no prefix of the IMA list replays to the quoted PCR "
                    + IMA_PCR + " " + quote.bank() + " value " + Hex.encode(quote.value()) + " (replayed "
                    + Hex.encode(endPcr) + ")"));
        }
        boolean passed = failures.count == 0;
        ImaState next;
        if (passed) {
            List<byte[]> learned = new ArrayList<>(start.learnedKeys());
            long end = matchedEnd;
            keys.learned().stream().filter(k -> k.index() < end).forEach(k -> learned.add(k.der()));
            next = new ImaState(start.bootId(), start.bank(), matchedEnd, matchedPcr, matchedPadded, learned,
                    start.violations() + violations);
        } else {
            next = ImaState.initial(start.bootId(), start.bank());
        }
        long matched = matchedEnd < 0 ? 0 : matchedEnd - start.nextIndex();
        return new ImaVerificationResult(passed, start.nextIndex(), read, matched, violations,
                start.violations() + violations, matchedPcr != null ? matchedPcr : endPcr, quote == null ? null : variant, List.copyOf(failures.kept),
                failures.count, next);
    }

    /** All failures counted, the first {@link #MAX_FAILURES} kept. */
    private static final class Failures {
        final List<ImaFailure> kept = new ArrayList<>();
        long count;

        void add(ImaFailure f) {
            count++;
            if (kept.size() < MAX_FAILURES) {
                kept.add(f);
            }
        }
    }

    /** 32-byte columns may be SHA-256 or SM3; the checker infers which, and replay treats both alike. */
    private static HashAlg logHashAlg(int len) {
        for (HashAlg a : HashAlg.values()) {
            if (a.digestSize() == len) {
                return a;
            }
        }
        return HashAlg.SHA1;
    }
}
