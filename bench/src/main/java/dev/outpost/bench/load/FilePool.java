package dev.outpost.bench.load;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

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
        return files.get(Math.floorMod(i, files.size()));
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
