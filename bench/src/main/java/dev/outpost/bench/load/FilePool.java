package dev.outpost.bench.load;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.ima.policy.RuntimePolicyBuilder;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.tpm.HashAlg;

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
        for (int pcr = 0; pcr < 10; pcr++) {
            firmware[pcr] = HashAlg.SHA256.digest(("load-generator firmware, PCR " + pcr).getBytes());
            pcrs[pcr] = HashAlg.SHA256.digest(new byte[32], firmware[pcr]);
        }
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
