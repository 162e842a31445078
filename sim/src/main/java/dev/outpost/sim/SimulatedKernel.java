package dev.outpost.sim;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.pcr.Pcrs;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;

/**
 * Plays firmware's and the Linux kernel's measurement role on a (software) TPM: writes the boot event log and the
 * IMA measurement list where securityfs would have them and extends the TPM exactly as the real thing would, so
 * agents, verifiers and policies can be tested against a real TPM end to end.
 *
 * <p>Files under the directory given: {@code binary_bios_measurements} (crypto-agile boot log, SHA-1 + SHA-256),
 * {@code ima/binary_runtime_measurements} and {@code ima/ascii_runtime_measurements}.
 *
 * <p>Kernel conventions followed (Linux ≥ 5.8 with {@code ima_hash=sha256}, {@code ima_template=ima-ng}):
 * <ul>
 * <li>boot_aggregate is the SHA-256 of the TPM's SHA-256 bank PCRs 0..9 (the kernel includes PCRs 8-9 for every
 * bank but SHA-1), read back from the TPM after the boot, logged as an ima-ng entry {@code sha256:<digest>}.</li>
 * <li>PCR 10 SHA-1 bank: extended with the entry's template hash (SHA-1 of the template data, the list's
 * column); SHA-256 bank: extended with SHA-256 of the template data (not the zero-padded SHA-1 of old kernels).
 * This is the {@code NATIVE} replay variant of ima-policy's {@code PcrReplay}.</li>
 * <li>A violation is logged with an all-zero digest and template hash and extends all-ones of each bank's
 * size.</li>
 * </ul>
 *
 * <p>A TPM connection is opened per operation: swtpm serves one client at a time and a power cycle drops it.
 * Methods are synchronized; one kernel per TPM.
 */
public final class SimulatedKernel {
    public static final int IMA_PCR = 10;
    public static final String BOOT_AGGREGATE = "boot_aggregate";
    /** The bank IMA's file digests and boot_aggregate use ({@code ima_hash=sha256}). */
    public static final HashAlg IMA_HASH = HashAlg.SHA256;

    private final Supplier<String> tpmUri;
    private final Path securityfs;
    private final Map<String, List<byte[]>> knownGood = new LinkedHashMap<>();
    private BootProfile profile;
    private ImaListFiles ima;
    private byte[] bootAggregate;
    private String bootId;
    private int boots;

    /** @param securityfs directory standing in for {@code /sys/kernel/security}; created if absent */
    public SimulatedKernel(String tpmUri, Path securityfs) {
        this(() -> tpmUri, securityfs);
    }

    /** For a TPM whose address may change across power cycles, e.g. {@code new SimulatedKernel(swtpm::uri, dir)}. */
    public SimulatedKernel(Supplier<String> tpmUri, Path securityfs) {
        this.tpmUri = Objects.requireNonNull(tpmUri);
        this.securityfs = Objects.requireNonNull(securityfs);
    }

    /**
     * Firmware and grub measure the profile's boot (log written, PCRs 0-9 extended), then IMA starts a new list
     * with boot_aggregate. The TPM must be fresh from a power cycle: with PCRs 0-10 not all zero the log could
     * never replay, so that is refused rather than simulated.
     */
    public synchronized void boot(BootProfile p) throws IOException {
        Objects.requireNonNull(p, "profile");
        List<Measurement> events = FirmwareBoot.measurements(p);
        Files.createDirectories(securityfs);
        byte[] aggregate = withTpm(tpm -> {
            requireReset(tpm);
            for (Measurement e : events) {
                Pcrs.extend(tpm, e.pcr(), e.digests());
            }
            return bootAggregate(tpm);
        });
        // Replaced whole, never rewritten in place: a reader sees the old boot's log or the new one.
        Path tmp = securityfs.resolve(".binary_bios_measurements.tmp");
        Files.write(tmp, FirmwareBoot.log(events));
        Files.move(tmp, bootLog(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        this.profile = p;
        this.boots++;
        this.bootId = UUID.randomUUID().toString();
        this.bootAggregate = aggregate;
        this.ima = new ImaListFiles(securityfs.resolve("ima"));
        record(BOOT_AGGREGATE, aggregate);
        append(ImaListWriter.imaNg(0, IMA_HASH, aggregate, BOOT_AGGREGATE));
    }

    /** Power cycle (e.g. {@code swtpm::reboot}: PCRs back to zero), then the same boot again and a new IMA list. */
    public synchronized void reboot(Runnable powerCycle) throws IOException {
        BootProfile p = requireBooted();
        powerCycle.run();
        boot(p);
    }

    /** IMA measures a file the machine is meant to run: recorded as known good for {@link GoodPolicies}. */
    public synchronized ImaEntry measure(String path, byte[] content) throws IOException {
        byte[] digest = IMA_HASH.digest(content);
        ImaEntry e = append(ImaListWriter.imaNg(next(), IMA_HASH, digest, path));
        record(path, digest);
        return e;
    }

    /**
     * IMA measures a file with its security.ima signature ({@code ima-sig}); {@code imaSignature} is the xattr
     * value (e.g. {@code ImaSignature.encode()}), or null for an unsigned file. Recorded as known good like
     * {@link #measure}: Keylime's runtime policy generation lists signed files' digests too.
     */
    public synchronized ImaEntry measureSigned(String path, byte[] content, byte[] imaSignature) throws IOException {
        byte[] digest = IMA_HASH.digest(content);
        ImaEntry e = append(ImaListWriter.imaSig(next(), IMA_HASH, digest, path, imaSignature));
        record(path, digest);
        return e;
    }

    /** {@link #measureSigned(String, byte[], byte[])} with a signature {@code signer} makes over the content. */
    public synchronized ImaEntry measureSigned(String path, byte[] content, ImaSigner signer) throws IOException {
        return measureSigned(path, content, signer.sign(content));
    }

    /** Tampering: a file the good state does not have. Measured exactly like {@link #measure}, not recorded. */
    public synchronized ImaEntry measureUnlisted(String path, byte[] content) throws IOException {
        return append(ImaListWriter.imaNg(next(), IMA_HASH, IMA_HASH.digest(content), path));
    }

    /**
     * A ToMToU / open-writers violation as the kernel records it: zero digest and template hash in the list,
     * all-ones extended.
     */
    public synchronized ImaEntry violation(String path) throws IOException {
        return append(ImaListWriter.violation(next(), IMA_HASH, path));
    }

    /** Tampering: PCR 10 extended (hash of {@code data} in each bank) with no list entry to account for it. */
    public synchronized void extendWithoutLog(byte[] data) {
        requireBooted();
        withTpm(tpm -> {
            Pcrs.extend(tpm, IMA_PCR, FirmwareBoot.digests(data));
            return null;
        });
    }

    /** Reads PCRs from the TPM in both banks. */
    public PcrValues readPcrs(Set<Integer> pcrs) {
        Map<HashAlg, Set<Integer>> sel = new LinkedHashMap<>();
        for (HashAlg b : FirmwareBoot.BANKS) {
            sel.put(b, new TreeSet<>(pcrs));
        }
        return withTpm(tpm -> Pcrs.read(tpm, PcrSelection.of(sel)));
    }

    public byte[] readPcr(HashAlg bank, int pcr) {
        return readPcrs(Set.of(pcr)).get(bank, pcr).orElseThrow();
    }

    public Path securityfs() {
        return securityfs;
    }

    public Path bootLog() {
        return securityfs.resolve("binary_bios_measurements");
    }

    public Path binaryRuntimeMeasurements() {
        return securityfs.resolve("ima").resolve("binary_runtime_measurements");
    }

    public Path asciiRuntimeMeasurements() {
        return securityfs.resolve("ima").resolve("ascii_runtime_measurements");
    }

    public synchronized byte[] bootLogBytes() throws IOException {
        requireBooted();
        return Files.readAllBytes(bootLog());
    }

    /** Entries in the current boot's list, boot_aggregate included. */
    public synchronized long listLength() {
        requireBooted();
        return ima.size();
    }

    public synchronized List<ImaEntry> entries() {
        requireBooted();
        return ima.entries();
    }

    /** A random id per boot, like {@code /proc/sys/kernel/random/boot_id}: what a verifier keys its state on. */
    public synchronized String bootId() {
        requireBooted();
        return bootId;
    }

    /** How many boots this kernel has done (1 after the first {@link #boot}). */
    public synchronized int boots() {
        return boots;
    }

    public synchronized BootProfile profile() {
        return requireBooted();
    }

    public synchronized byte[] bootAggregate() {
        requireBooted();
        return bootAggregate.clone();
    }

    /**
     * Path → SHA-256 digests measured by {@link #boot} (boot_aggregate) and {@link #measure}/{@link #measureSigned}
     * in every boot so far; not the tampering methods'.
     */
    public synchronized Map<String, List<byte[]>> knownGood() {
        Map<String, List<byte[]>> copy = new LinkedHashMap<>();
        knownGood.forEach((k, v) -> copy.put(k, v.stream().map(byte[]::clone).toList()));
        return copy;
    }

    private void record(String path, byte[] digest) {
        List<byte[]> l = knownGood.computeIfAbsent(path, k -> new ArrayList<>(1));
        if (l.stream().noneMatch(d -> Arrays.equals(d, digest))) {
            l.add(digest.clone());
        }
    }

    private long next() {
        requireBooted();
        return ima.size();
    }

    /** The kernel appends to the list before it extends: a quote in between sees a list longer than the PCR. */
    private ImaEntry append(ImaEntry e) throws IOException {
        ima.append(e);
        withTpm(tpm -> {
            Pcrs.extend(tpm, IMA_PCR, pcr10Digests(e));
            return null;
        });
        return e;
    }

    static Map<HashAlg, byte[]> pcr10Digests(ImaEntry e) {
        Map<HashAlg, byte[]> d = new LinkedHashMap<>();
        for (HashAlg b : FirmwareBoot.BANKS) {
            if (e.isViolation()) {
                byte[] ones = new byte[b.digestSize()];
                Arrays.fill(ones, (byte) 0xff);
                d.put(b, ones);
            } else if (b == HashAlg.SHA1) {
                d.put(b, e.templateHash());
            } else {
                d.put(b, b.digest(e.templateData()));
            }
        }
        return d;
    }

    /** ima_calc_boot_aggregate: H(PCR0 ‖ … ‖ PCR9) over the bank of ima_hash, values read from the TPM. */
    private static byte[] bootAggregate(Tpm2 tpm) {
        Map<HashAlg, Set<Integer>> sel = Map.of(IMA_HASH, new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)));
        PcrValues v = Pcrs.read(tpm, PcrSelection.of(sel));
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int pcr = 0; pcr <= 9; pcr++) {
            all.writeBytes(v.get(IMA_HASH, pcr).orElseThrow());
        }
        return IMA_HASH.digest(all.toByteArray());
    }

    private static void requireReset(Tpm2 tpm) {
        Map<HashAlg, Set<Integer>> sel = new LinkedHashMap<>();
        for (HashAlg b : FirmwareBoot.BANKS) {
            sel.put(b, new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)));
        }
        PcrValues v = Pcrs.read(tpm, PcrSelection.of(sel));
        for (HashAlg b : FirmwareBoot.BANKS) {
            for (Map.Entry<Integer, byte[]> e : v.bank(b).entrySet()) {
                for (byte x : e.getValue()) {
                    if (x != 0) {
                        throw new IllegalStateException("PCR " + e.getKey() + " (" + b + ") is not at its reset"
                                + " value: power-cycle the TPM before booting (reboot(powerCycle))");
                    }
                }
            }
        }
    }

    private BootProfile requireBooted() {
        if (profile == null) {
            throw new IllegalStateException("not booted: call boot(profile) first");
        }
        return profile;
    }

    private <T> T withTpm(Function<Tpm2, T> op) {
        try (Tpm2 tpm = Tpm2.open(tpmUri.get())) {
            return op.apply(tpm);
        } catch (IOException e) {
            throw new UncheckedIOException("TPM " + tpmUri.get() + ": " + e.getMessage(), e);
        }
    }
}
