package dev.outpost.bench.load;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.tpm.HashAlg;

/**
 * A kernel's binary IMA list (ima-ng, sha256 file digests) and its PCR 10: every entry is appended, then the
 * sha256 bank is extended with SHA-256 of the template data, the kernel's native replay for that bank.
 */
final class ImaLog {
    static final int IMA_PCR = 10;

    private final SoftwareTpm tpm;
    private final ByteArrayOutputStream list = new ByteArrayOutputStream();
    // Byte offset of each entry, so a slice from the appliance's offset costs no parse.
    private final List<Integer> offsets = new ArrayList<>();

    ImaLog(SoftwareTpm tpm) {
        this.tpm = tpm;
    }

    synchronized void measure(String path, byte[] sha256) {
        ImaEntry e = ImaListWriter.imaNg(offsets.size(), HashAlg.SHA256, sha256, path);
        append(e, e);
    }

    /**
     * What a tampered log looks like: the kernel measured {@code measured} (PCR 10 holds it), the list shows
     * {@code shown} with a template hash consistent with that lie, so only the replay against PCR 10 catches it.
     */
    synchronized void measureDisguised(String path, byte[] measured, byte[] shown) {
        append(ImaListWriter.imaNg(offsets.size(), HashAlg.SHA256, shown, path),
                ImaListWriter.imaNg(offsets.size(), HashAlg.SHA256, measured, path));
    }

    private void append(ImaEntry listed, ImaEntry extended) {
        offsets.add(list.size());
        try {
            ImaListWriter.writeBinary(list, listed);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        tpm.extend(IMA_PCR, HashAlg.SHA256.digest(extended.templateData()));
    }

    /** A new boot: the kernel starts a new list. */
    synchronized void reset() {
        list.reset();
        offsets.clear();
    }

    synchronized int size() {
        return offsets.size();
    }

    /** The entries from {@code first} on; nothing when the appliance asks past the end (a reboot it did not see). */
    synchronized byte[] from(long first) {
        byte[] all = list.toByteArray();
        if (first >= offsets.size()) {
            return new byte[0];
        }
        return Arrays.copyOfRange(all, offsets.get((int) first), all.length);
    }
}
