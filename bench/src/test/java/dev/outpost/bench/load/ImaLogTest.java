package dev.outpost.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.outpost.ima.list.BinaryImaListReader;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.tpm.HashAlg;

/**
 * The compact log against the plain one it replaced (kept here as the reference: every entry written out with
 * ImaListWriter as it is measured): byte-identical slices from every offset and the same PCR 10, for a mixed
 * sequence of pool files, files outside the pool, disguised entries and reboots.
 */
class ImaLogTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The representation ImaLog had before: the whole binary list in memory, and PCR 10 kept alongside. */
    private static final class Reference {
        final ByteArrayOutputStream list = new ByteArrayOutputStream();
        final List<Integer> offsets = new ArrayList<>();
        byte[] pcr = new byte[32];

        void measure(String path, byte[] sha256) {
            ImaEntry e = ImaListWriter.imaNg(offsets.size(), HashAlg.SHA256, sha256, path);
            append(e, e);
        }

        void measureDisguised(String path, byte[] measured, byte[] shown) {
            append(ImaListWriter.imaNg(offsets.size(), HashAlg.SHA256, shown, path),
                    ImaListWriter.imaNg(offsets.size(), HashAlg.SHA256, measured, path));
        }

        private void append(ImaEntry listed, ImaEntry extended) {
            offsets.add(list.size());
            try {
                ImaListWriter.writeBinary(list, listed);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            pcr = HashAlg.SHA256.digest(pcr, HashAlg.SHA256.digest(extended.templateData()));
        }

        void reset() {
            list.reset();
            offsets.clear();
            pcr = new byte[32];
        }

        byte[] from(long first) {
            byte[] all = list.toByteArray();
            return first >= offsets.size() ? new byte[0] : Arrays.copyOfRange(all, offsets.get((int) first), all.length);
        }
    }

    @Test
    void slicesAndPcrMatchThePlainListThroughAMixedSequence() throws Exception {
        FilePool pool = new FilePool(37, RANDOM);
        SoftwareTpm tpm = new SoftwareTpm(SoftwareTpm.EkKind.ECC);
        ImaLog log = new ImaLog(tpm, pool);
        Reference ref = new Reference();
        int next = 5;
        for (int boot = 0; boot < 3; boot++) {
            if (boot > 0) {
                // As SimDevice.reboot: the TPM resets PCR 10, the kernel starts a new list.
                tpm.reboot();
                log.reset();
                ref.reset();
            }
            log.measure("boot_aggregate", pool.bootAggregate());
            ref.measure("boot_aggregate", pool.bootAggregate());
            for (int i = 0; i < 120 + boot * 50; i++) {
                int k = i % 17;
                if (k == 3) {
                    byte[] d = random();
                    log.measure(SimDevice.UNKNOWN_FILE, d);
                    ref.measure(SimDevice.UNKNOWN_FILE, d);
                } else if (k == 9) {
                    byte[] measured = random();
                    FilePool.File shown = pool.pick(next);
                    log.measureDisguised(pool.index(next++), measured);
                    ref.measureDisguised(shown.path(), measured, shown.digest());
                } else {
                    FilePool.File f = pool.pick(next);
                    log.measureFile(pool.index(next++));
                    ref.measure(f.path(), f.digest());
                }
                if (i % 40 == 0) {
                    assertSame(log, ref, tpm);
                }
            }
            assertSame(log, ref, tpm);
        }
    }

    @Test
    void aDisguisedEntryShowsThePoolFileButPcr10HoldsWhatRan() throws Exception {
        FilePool pool = new FilePool(4, RANDOM);
        SoftwareTpm tpm = new SoftwareTpm(SoftwareTpm.EkKind.ECC);
        ImaLog log = new ImaLog(tpm, pool);
        log.measureDisguised(2, random());

        ImaEntry shown;
        try (BinaryImaListReader r = new BinaryImaListReader(new java.io.ByteArrayInputStream(log.from(0)))) {
            shown = r.next();
            assertThat(r.next()).isNull();
        }
        assertThat(shown.path()).isEqualTo(pool.file(2).path());
        assertThat(shown.digest()).isEqualTo(pool.file(2).digest());
        // Replaying the list does not reach PCR 10: that is what the appliance catches.
        byte[] replay = HashAlg.SHA256.digest(new byte[32], HashAlg.SHA256.digest(shown.templateData()));
        assertThat(tpm.pcr(ImaLog.IMA_PCR)).isNotEqualTo(replay);
    }

    @Test
    void refusesANegativeOffsetAndAFileOutsideThePool() throws Exception {
        FilePool pool = new FilePool(4, RANDOM);
        ImaLog log = new ImaLog(new SoftwareTpm(SoftwareTpm.EkKind.ECC), pool);
        log.measureFile(3);

        assertThatThrownBy(() -> log.from(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.measureFile(4)).isInstanceOf(IllegalArgumentException.class);
        assertThat(log.size()).isEqualTo(1);
    }

    private static void assertSame(ImaLog log, Reference ref, SoftwareTpm tpm) {
        assertThat(log.size()).isEqualTo(ref.offsets.size());
        for (long first : new long[] {0, 1, log.size() / 3, log.size() - 1, log.size(), log.size() + 7}) {
            assertThat(log.from(first)).as("slice from %d", first).isEqualTo(ref.from(first));
        }
        assertThat(tpm.pcr(ImaLog.IMA_PCR)).isEqualTo(ref.pcr);
    }

    private static byte[] random() {
        byte[] d = new byte[32];
        RANDOM.nextBytes(d);
        return d;
    }
}
