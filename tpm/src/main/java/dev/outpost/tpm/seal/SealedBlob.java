package dev.outpost.tpm.seal;

import java.util.Optional;

import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmReader;
import dev.outpost.tpm.wire.TpmWriter;

/**
 * A sealed-data object as kept on disk: its TPM2B_PUBLIC and TPM2B_PRIVATE (the private part wrapped by the storage
 * parent of one TPM, so useless anywhere else), and, when it is bound to PCRs, the selection and the PCR digest the
 * policy was computed over. Encoded as: version (u8, 1), sized public, sized private, u8 0/1, then
 * TPML_PCR_SELECTION and sized pcrDigest when 1. Every length is checked and nothing may trail.
 */
public final class SealedBlob {
    public static final int VERSION = 1;
    private static final int MAX_PUBLIC = 1024;
    private static final int MAX_PRIVATE = 1024;
    private static final int MAX_DIGEST = 64;

    private final byte[] pub;
    private final byte[] priv;
    private final PcrSelection pcrs;
    private final byte[] pcrDigest;

    SealedBlob(byte[] pub, byte[] priv, PcrSelection pcrs, byte[] pcrDigest) {
        this.pub = pub.clone();
        this.priv = priv.clone();
        this.pcrs = pcrs;
        this.pcrDigest = pcrDigest == null ? null : pcrDigest.clone();
    }

    /** The PCRs the object is sealed to; empty when it has no PCR policy (userWithAuth, empty auth). */
    public Optional<PcrSelection> pcrs() {
        return Optional.ofNullable(pcrs);
    }

    byte[] pub() {
        return pub.clone();
    }

    byte[] priv() {
        return priv.clone();
    }

    byte[] pcrDigest() {
        return pcrDigest == null ? null : pcrDigest.clone();
    }

    public byte[] encoded() {
        TpmWriter w = new TpmWriter().u8(VERSION).sized(pub).sized(priv).u8(pcrs == null ? 0 : 1);
        if (pcrs != null) {
            pcrs.write(w);
            w.sized(pcrDigest);
        }
        return w.toBytes();
    }

    public static SealedBlob decode(byte[] b) throws TpmFormatException {
        TpmReader r = new TpmReader(b, "sealed blob");
        int v = r.u8("version");
        if (v != VERSION) {
            throw r.error("version " + v + " (this build reads " + VERSION + ")");
        }
        byte[] pub = r.sized("public", MAX_PUBLIC);
        byte[] priv = r.sized("private", MAX_PRIVATE);
        int policy = r.u8("hasPcrPolicy");
        PcrSelection pcrs = null;
        byte[] digest = null;
        if (policy == 1) {
            pcrs = PcrSelection.read(r);
            digest = r.sized("pcrDigest", MAX_DIGEST);
            if (pcrs.isEmpty() || digest.length != 32) {
                throw r.error("PCR policy with an empty selection or a digest that is not SHA-256");
            }
        } else if (policy != 0) {
            throw r.error("hasPcrPolicy " + policy);
        }
        if (pub.length == 0 || priv.length == 0) {
            throw r.error("empty public or private part");
        }
        r.expectEnd();
        return new SealedBlob(pub, priv, pcrs, digest);
    }
}
