package dev.outpost.bench.load;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.tpm.HashAlg;

/**
 * A kernel's binary IMA list (ima-ng, sha256 file digests) and its PCR 10, held compactly: the binary list is made
 * only when the appliance asks for a slice. Every entry extends the sha256 bank with SHA-256 of its template data
 * (the kernel's native replay for that bank) at once, so only what the list <em>shows</em> must be kept.
 *
 * <p>Why compact: a reboot storm of 10,000 devices × 5,000 entries would hold ~55 GB of list bytes. Almost every
 * entry is a file of the site's {@link FilePool}, whose binary entry does not depend on its position (the binary
 * format carries no index), so an entry is one int, the pool file's number, and its bytes come from the pool's
 * cache. The few others (boot_aggregate, a file the policy does not know) keep their own binary entry.
 */
final class ImaLog {
    static final int IMA_PCR = 10;

    private final SoftwareTpm tpm;
    private final FilePool pool;
    // Per entry: >= 0 a pool file's number; < 0 -(k + 1) for others.get(k).
    private int[] codes = new int[16];
    private int size;
    private final List<byte[]> others = new ArrayList<>(1);

    ImaLog(SoftwareTpm tpm, FilePool pool) {
        this.tpm = tpm;
        this.pool = pool;
    }

    /** The kernel runs pool file {@code file} (0 to pool size - 1). */
    synchronized void measureFile(int file) {
        add(file);
        tpm.extend(IMA_PCR, pool.imaExtend(file));
    }

    /** The kernel runs a file that is not in the pool (boot_aggregate, a file the policy does not know). */
    synchronized void measure(String path, byte[] sha256) {
        ImaEntry e = ImaListWriter.imaNg(size, HashAlg.SHA256, sha256, path);
        others.add(FilePool.binary(e));
        add(-others.size());
        tpm.extend(IMA_PCR, HashAlg.SHA256.digest(e.templateData()));
    }

    /**
     * What a tampered log looks like: the kernel measured {@code measured} under pool file {@code shownFile}'s path
     * (PCR 10 holds it), the list shows that pool file with a template hash consistent with the lie, so only the
     * replay against PCR 10 catches it. The measured digest lives on in PCR 10 only: the list never shows it.
     */
    synchronized void measureDisguised(int shownFile, byte[] measured) {
        add(shownFile);
        ImaEntry e = ImaListWriter.imaNg(size - 1, HashAlg.SHA256, measured, pool.file(shownFile).path());
        tpm.extend(IMA_PCR, HashAlg.SHA256.digest(e.templateData()));
    }

    private void add(int code) {
        if (code >= 0 && code >= pool.size()) {
            throw new IllegalArgumentException("pool file " + code + " of " + pool.size());
        }
        if (size == codes.length) {
            codes = Arrays.copyOf(codes, size + (size >> 1));
        }
        codes[size++] = code;
    }

    /** A new boot: the kernel starts a new list. */
    synchronized void reset() {
        size = 0;
        others.clear();
    }

    synchronized int size() {
        return size;
    }

    /** The entries from {@code first} on; nothing when the appliance asks past the end (a reboot it did not see). */
    synchronized byte[] from(long first) {
        if (first < 0) {
            throw new IllegalArgumentException("IMA offset " + first);
        }
        if (first >= size) {
            return new byte[0];
        }
        int total = 0;
        for (int i = (int) first; i < size; i++) {
            total += entry(i).length;
        }
        byte[] out = new byte[total];
        int at = 0;
        for (int i = (int) first; i < size; i++) {
            byte[] e = entry(i);
            System.arraycopy(e, 0, out, at, e.length);
            at += e.length;
        }
        return out;
    }

    private byte[] entry(int i) {
        int c = codes[i];
        return c >= 0 ? pool.imaEntry(c) : others.get(-c - 1);
    }
}
