package dev.outpost.appliance.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.store.AuditChainRows;
import dev.outpost.appliance.store.Database;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.nvanchor.ExtendIndex;
import dev.outpost.tpm.nvanchor.NvCertification;
import dev.outpost.tpm.nvanchor.NvCertifyVerifier;

/**
 * Anchors the audit chain heads in the gateway's TPM ({@code audit.anchor: tpm}): extends their anchor digest into an
 * {@link ExtendIndex} and stores a checkpoint with the AK's TPM2_NV_Certify of the index over a fresh qualifying value.
 * The AK is the gateway's (the one the join presents: RSA 2048 under the RSA EK, in {@code <dataDir>/upstream}).
 *
 * <p>Crash-safe in three steps: the checkpoint is committed pending (with the value the extend will give) before the
 * extend, then the extend, then the certification completes the row. The next run finishes a pending checkpoint from
 * whatever the TPM holds, so the TPM's value is always explained by the table. Blocking (TPM and JDBC): a worker.
 */
public final class TpmAnchor {
    private static final Logger LOG = LoggerFactory.getLogger(TpmAnchor.class);
    private static final HexFormat HEX = HexFormat.of();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Database db;
    private final String tpmUri;
    private final Path akDir;
    private final int nvIndex;
    private final Clock clock;

    public TpmAnchor(Database db, String tpmUri, Path akDir, int nvIndex, Clock clock) {
        this.db = db;
        this.tpmUri = tpmUri;
        this.akDir = akDir;
        this.nvIndex = ExtendIndex.checkIndex(nvIndex);
        this.clock = clock;
    }

    /**
     * Verifies the trail as {@code audit verify} does, against the index's value now, while this appliance runs: under
     * the anchor's lock, so no checkpoint is half made between reading the TPM and reading the database.
     */
    public synchronized AuditVerifier.Report verifyNow(byte[] gatewayAkPublic) throws IOException {
        int index = db.inTransaction(CheckpointStore::last).map(Checkpoint::nvIndex).orElse(nvIndex);
        byte[] value = currentValue(tpmUri, index).orElse(null);
        return AuditVerifier.verify(db, true, value, gatewayAkPublic);
    }

    /** Anchors the heads if they moved since the last checkpoint; returns the new checkpoint, or empty. */
    public synchronized Optional<Checkpoint> anchor() {
        Object[] read = db.inTransaction(c -> new Object[] {AuditChainRows.state(c, false), AuditChainRows.state(c, true),
                CheckpointStore.last(c).orElse(null)});
        AuditChainRows.State routine = (AuditChainRows.State) read[0];
        AuditChainRows.State lasting = (AuditChainRows.State) read[1];
        Checkpoint last = (Checkpoint) read[2];
        try (Tpm2 tpm = Tpm2.open(tpmUri)) {
            ExtendIndex.ensure(tpm, nvIndex);
            if (last != null && last.pending()) {
                finish(tpm, last);
            }
            if (last != null && last.routineSeq() == routine.headSeq() && last.lastingSeq() == lasting.headSeq()
                    && Arrays.equals(last.routineHash(), routine.headHash())
                    && Arrays.equals(last.lastingHash(), lasting.headHash())) {
                return Optional.empty();
            }
            byte[] current = ExtendIndex.read(tpm, nvIndex).orElse(null);
            if (last != null && last.nvIndex() == nvIndex && !Arrays.equals(current, last.nvValue())) {
                LOG.error("audit anchor: TPM NV index 0x{} holds {}, not the value of the last checkpoint {} ({}): the "
                        + "index was extended outside the appliance or checkpoints were removed; anchoring on, and "
                        + "`audit verify` reports it", Integer.toHexString(nvIndex), hex(current), last.id(),
                        hex(last.nvValue()));
            }
            byte[] anchor = Checkpoint.anchor(routine.headSeq(), routine.headHash(), lasting.headSeq(), lasting.headHash());
            Checkpoint pending = new Checkpoint(0, clock.instant(), routine.headSeq(), routine.headHash(),
                    lasting.headSeq(), lasting.headHash(), nvIndex, ExtendIndex.extended(current, anchor), null, null,
                    null, null);
            long id = db.inTransaction(c -> CheckpointStore.insertPending(c, pending));
            Checkpoint stored = withId(pending, id);
            ExtendIndex.extend(tpm, nvIndex, anchor);
            return Optional.of(certify(tpm, stored));
        } catch (IOException e) {
            throw new UncheckedIOException("audit anchor: cannot reach the TPM at " + tpmUri + ": " + e.getMessage(), e);
        }
    }

    /** A checkpoint left pending by a crash: extend if the crash came before the extend, then certify. */
    private void finish(Tpm2 tpm, Checkpoint p) {
        byte[] current = ExtendIndex.read(tpm, p.nvIndex()).orElse(null);
        if (!Arrays.equals(current, p.nvValue())) {
            if (!Arrays.equals(ExtendIndex.extended(current, p.anchor()), p.nvValue())) {
                LOG.error("audit anchor: pending checkpoint {} expects {} but the TPM holds {}; left pending for "
                        + "`audit verify` to report", p.id(), hex(p.nvValue()), hex(current));
                return;
            }
            ExtendIndex.extend(tpm, p.nvIndex(), p.anchor());
        }
        certify(tpm, p);
        LOG.info("audit anchor: completed checkpoint {} left pending by an interruption", p.id());
    }

    private Checkpoint certify(Tpm2 tpm, Checkpoint p) {
        byte[] qualifying = new byte[32];
        RANDOM.nextBytes(qualifying);
        NvCertification cert;
        byte[] akPublic;
        try (TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            AttestationKey ak = AttestationKey.loadOrCreate(tpm, ek, AkTemplate.RSA_2048, akDir);
            akPublic = ak.pub().encodedSized();
            try (TpmKey loaded = ak.load(tpm, ek)) {
                cert = ExtendIndex.certify(tpm, loaded, p.nvIndex(), qualifying);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("audit anchor: the gateway's AK in " + akDir + ": " + e.getMessage(), e);
        }
        // checked before it is stored: a checkpoint that would not verify is a fault to see now, not at audit time
        NvCertifyVerifier.Result r = NvCertifyVerifier.verify(akPublic, p.nvIndex(), qualifying, cert);
        if (!r.ok() || !Arrays.equals(r.nvContents(), p.nvValue())) {
            throw new IllegalStateException("audit anchor: the TPM's certification of checkpoint " + p.id()
                    + " does not verify: " + (r.ok() ? "certified value " + hex(r.nvContents()) + ", expected "
                    + hex(p.nvValue()) : r.failure()));
        }
        db.inTransaction(c -> {
            CheckpointStore.complete(c, p.id(), qualifying, cert.attest(), cert.signature(), akPublic);
            // central gets the checkpoint with the AK public, so it can check it (docs/upward-link.md)
            java.util.Map<String, Object> data = new java.util.LinkedHashMap<>();
            data.put("id", p.id());
            data.put("at", p.at().toString());
            data.put("routineSeq", p.routineSeq());
            data.put("routineHash", hex(p.routineHash()));
            data.put("lastingSeq", p.lastingSeq());
            data.put("lastingHash", hex(p.lastingHash()));
            data.put("nvIndex", p.nvIndex());
            data.put("nvValue", hex(p.nvValue()));
            data.put("qualifying", hex(qualifying));
            data.put("attest", hex(cert.attest()));
            data.put("signature", hex(cert.signature()));
            data.put("akPublic", hex(akPublic));
            db.outbox().append(c, "audit.checkpoint", p.at(), null, data);
            return null;
        });
        LOG.info("audit anchor: checkpoint {} anchors routine seq {} and lasting seq {} in NV 0x{}", p.id(),
                p.routineSeq(), p.lastingSeq(), Integer.toHexString(p.nvIndex()));
        return new Checkpoint(p.id(), p.at(), p.routineSeq(), p.routineHash(), p.lastingSeq(), p.lastingHash(),
                p.nvIndex(), p.nvValue(), qualifying, cert.attest(), cert.signature(), akPublic);
    }

    private static Checkpoint withId(Checkpoint p, long id) {
        return new Checkpoint(id, p.at(), p.routineSeq(), p.routineHash(), p.lastingSeq(), p.lastingHash(), p.nvIndex(),
                p.nvValue(), null, null, null, null);
    }

    /** The index's value now (empty before the first anchor): what `audit verify` compares the last checkpoint with. */
    public static Optional<byte[]> currentValue(String tpmUri, int nvIndex) throws IOException {
        try (Tpm2 tpm = Tpm2.open(tpmUri)) {
            return ExtendIndex.read(tpm, nvIndex);
        }
    }

    static String hex(byte[] b) {
        return b == null ? "(unwritten)" : HEX.formatHex(b);
    }
}
