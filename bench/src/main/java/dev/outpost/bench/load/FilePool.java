package dev.outpost.bench.load;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.policy.RuntimePolicyBuilder;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLogWriter;
import dev.outpost.tpm.eventlog.EventType;

/**
 * The files a site's devices run, as the runtime policy knows them, and the one firmware every device boots:
 * sharing the firmware gives every device the same boot_aggregate, so one policy fits the whole fleet.
 */
public final class FilePool {
    /** A file's path and the SHA-256 of its content. */
    public record File(String path, byte[] digest) {
    }

    private final List<File> files;
    // Per file, its ima-ng entry in the binary list and what it extends into PCR 10: the same wherever it stands in
    // a list, so every device's list shares them (ImaLog).
    private final byte[][] imaEntries;
    private final byte[][] imaExtends;
    private final byte[][] firmware;
    private final byte[] bootAggregate;
    private final byte[] bootLog;

    public FilePool(int size, SecureRandom random) {
        List<File> f = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            byte[] d = new byte[32];
            random.nextBytes(d);
            f.add(new File("/usr/lib/outpost-load/file-" + i, d));
        }
        this.files = List.copyOf(f);
        imaEntries = new byte[size][];
        imaExtends = new byte[size][];
        for (int i = 0; i < size; i++) {
            ImaEntry e = ImaListWriter.imaNg(0, HashAlg.SHA256, files.get(i).digest(), files.get(i).path());
            imaEntries[i] = binary(e);
            imaExtends[i] = HashAlg.SHA256.digest(e.templateData());
        }
        firmware = new byte[10][];
        byte[][] pcrs = new byte[10][];
        // The boot log the firmware would leave: one event per PCR, so it replays to what the devices quote (the
        // appliance asks for it on a first attestation and after a reboot, and a device that withholds it fails).
        EventLogWriter log = EventLogWriter.cryptoAgile(HashAlg.SHA256);
        for (int pcr = 0; pcr < 10; pcr++) {
            byte[] measured = ("load-generator firmware, PCR " + pcr).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            firmware[pcr] = HashAlg.SHA256.digest(measured);
            pcrs[pcr] = HashAlg.SHA256.digest(new byte[32], firmware[pcr]);
            log.event(pcr, EventType.EV_POST_CODE, measured);
        }
        bootLog = log.toBytes();
        // ima_calc_boot_aggregate over sha256 PCRs 0-9 after one extend each, as SimulatedKernel computes it.
        bootAggregate = HashAlg.SHA256.digest(pcrs);
    }

    public File pick(int i) {
        return files.get(index(i));
    }

    /** The file number {@link #pick} takes for {@code i}. */
    public int index(int i) {
        return Math.floorMod(i, files.size());
    }

    /** File number {@code index} (0 to size - 1). */
    public File file(int index) {
        return files.get(index);
    }

    /** File {@code index}'s entry in a binary IMA list; shared, never to be modified. */
    byte[] imaEntry(int index) {
        return imaEntries[index];
    }

    /** What running file {@code index} extends into PCR 10's sha256 bank; shared, never to be modified. */
    byte[] imaExtend(int index) {
        return imaExtends[index];
    }

    /** An entry as the kernel's binary_runtime_measurements shows it (the index is not part of it). */
    static byte[] binary(ImaEntry e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try {
            ImaListWriter.writeBinary(out, e);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toByteArray();
    }

    public int size() {
        return files.size();
    }

    /** What firmware extends into PCR {@code pcr} (0-9), once. */
    public byte[] firmware(int pcr) {
        return firmware[pcr].clone();
    }

    /** The TCG boot event log of that firmware (crypto-agile, SHA-256). */
    public byte[] bootLog() {
        return bootLog.clone();
    }

    public byte[] bootAggregate() {
        return bootAggregate.clone();
    }

    /** A Keylime-format runtime policy allowing boot_aggregate and every file of the pool. */
    public String runtimePolicyJson() {
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(List.of(), HashAlg.SHA256);
        b.addFile("boot_aggregate", bootAggregate);
        for (File f : files) {
            b.addFile(f.path(), f.digest());
        }
        return new RuntimePolicyJson().writeString(b.build());
    }
}
