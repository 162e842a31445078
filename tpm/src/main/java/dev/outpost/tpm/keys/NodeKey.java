package dev.outpost.tpm.keys;

import java.security.SignatureException;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmReader;
import dev.outpost.tpm.wire.TpmWriter;
import dev.outpost.tpm.wire.TpmtSignature;
import tss.tpm.CreateResponse;
import tss.tpm.TPM2B_PRIVATE;
import tss.tpm.TPMS_NULL_SIG_SCHEME;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMS_SIGNATURE_ECC;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_TK_HASHCHECK;
import tss.tpm.TPMU_SIGNATURE;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;

/**
 * A node key held by the TPM: its public area and its private part as the TPM exported it, wrapped by the storage
 * parent (useless anywhere but in this TPM). The agent keeps the two in its state directory and loads the key for each
 * signature.
 */
public final class NodeKey {
    private static final int MAX_PRIVATE = 4096;
    private static final int MAX_PUBLIC = 2048;

    private final TpmPublic pub;
    private final byte[] priv;

    public NodeKey(TpmPublic pub, byte[] priv) {
        this.pub = pub;
        this.priv = priv.clone();
    }

    /** Creates a new key under the storage parent (sensitiveDataOrigin: the TPM makes the private key). */
    public static NodeKey create(Tpm2 tpm, TpmKey parent, NodeKeyTemplate template) {
        return create(tpm, parent, template.template());
    }

    /** Creates a key from any template; tests make keys of the wrong kind with it. */
    public static NodeKey create(Tpm2 tpm, TpmKey parent, byte[] template) {
        CreateResponse r = tpm.tss().Create(parent.handle(), new TPMS_SENSITIVE_CREATE(), TPMT_PUBLIC.fromBytes(template),
                new byte[0], new TPMS_PCR_SELECTION[0]);
        try {
            return new NodeKey(TpmPublic.parse(r.outPublic.toBytes()), r.outPrivate.buffer);
        } catch (TpmFormatException e) {
            throw new IllegalStateException("TPM returned a key we cannot parse: " + e.getMessage(), e);
        }
    }

    /** Loads the key under its parent; close the returned key to flush it. */
    public TpmKey load(Tpm2 tpm, TpmKey parent) {
        TPM_HANDLE h = tpm.tss().Load(parent.handle(), new TPM2B_PRIVATE(priv), TPMT_PUBLIC.fromBytes(pub.encoded()));
        return new TpmKey(tpm, h, pub, true);
    }

    /**
     * TPM2_Sign over a digest the host computed, with the key's own scheme and a null ticket (the key is not
     * restricted, so the TPM need not have hashed the message itself). ECDSA keys only.
     */
    public static TpmtSignature sign(Tpm2 tpm, TpmKey loaded, byte[] digest) throws SignatureException {
        if (loaded.pub().type() != TpmAlg.ECC || loaded.pub().schemeAlg() != TpmAlg.ECDSA) {
            throw new SignatureException("only ECDSA node keys sign through the TPM here");
        }
        TPMU_SIGNATURE s = tpm.tss().Sign(loaded.handle(), digest, new TPMS_NULL_SIG_SCHEME(),
                new TPMT_TK_HASHCHECK(TPM_HANDLE.from(TPM_RH.NULL), new byte[0]));
        if (!(s instanceof TPMS_SIGNATURE_ECC ecc)) {
            throw new SignatureException("TPM returned a " + s.getClass().getSimpleName() + ", not an ECDSA signature");
        }
        try {
            return TpmtSignature.parse(new TpmWriter().u16(TpmAlg.ECDSA).u16(loaded.pub().schemeHashAlg())
                    .sized(ecc.signatureR).sized(ecc.signatureS).toBytes());
        } catch (TpmFormatException e) {
            throw new SignatureException("TPM signature: " + e.getMessage(), e);
        }
    }

    public TpmPublic pub() {
        return pub;
    }

    /** TPM2B_PUBLIC then TPM2B_PRIVATE: the one file the agent keeps for its key, written atomically. */
    public byte[] encoded() {
        return new TpmWriter().sized(pub.encoded()).sized(priv).toBytes();
    }

    public static NodeKey decode(byte[] b) throws TpmFormatException {
        TpmReader r = new TpmReader(b, "node key");
        TpmPublic pub = TpmPublic.parse(r.sized("public", MAX_PUBLIC));
        byte[] priv = r.sized("private", MAX_PRIVATE);
        r.expectEnd();
        return new NodeKey(pub, priv);
    }
}
