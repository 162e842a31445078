package dev.outpost.tpm.keys;

import java.security.SignatureException;

import dev.outpost.tpm.HashAlg;
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
import tss.tpm.TPMS_SIGNATURE_RSA;
import tss.tpm.TPMS_SIG_SCHEME_RSAPSS;
import tss.tpm.TPMS_SIG_SCHEME_RSASSA;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMS_SIGNATURE_ECC;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_TK_HASHCHECK;
import tss.tpm.TPMU_SIGNATURE;
import tss.tpm.TPMU_SIG_SCHEME;
import tss.tpm.TPM_ALG_ID;
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
     * TPM2_Sign over a SHA-256 digest the host computed, with a null ticket (the key is not restricted, so the TPM need
     * not have hashed the message itself). {@code sigAlg} picks the scheme: ECDSA for an ECC key (its scheme is fixed
     * in it); RSASSA (PKCS#1 v1.5) or RSAPSS for an RSA key, whose template leaves the scheme open.
     */
    public static TpmtSignature sign(Tpm2 tpm, TpmKey loaded, byte[] digest, int sigAlg) throws SignatureException {
        int type = loaded.pub().type();
        TPMU_SIG_SCHEME scheme;
        if (type == TpmAlg.ECC && sigAlg == TpmAlg.ECDSA && loaded.pub().schemeAlg() == TpmAlg.ECDSA) {
            scheme = new TPMS_NULL_SIG_SCHEME();
        } else if (type == TpmAlg.RSA && sigAlg == TpmAlg.RSASSA) {
            scheme = new TPMS_SIG_SCHEME_RSASSA(TPM_ALG_ID.SHA256);
        } else if (type == TpmAlg.RSA && sigAlg == TpmAlg.RSAPSS) {
            scheme = new TPMS_SIG_SCHEME_RSAPSS(TPM_ALG_ID.SHA256);
        } else {
            throw new SignatureException("a " + (type == TpmAlg.RSA ? "RSA" : "ECC") + " node key cannot sign with scheme 0x"
                    + Integer.toHexString(sigAlg));
        }
        TPMU_SIGNATURE s = tpm.tss().Sign(loaded.handle(), digest, scheme,
                new TPMT_TK_HASHCHECK(TPM_HANDLE.from(TPM_RH.NULL), new byte[0]));
        try {
            if (s instanceof TPMS_SIGNATURE_ECC ecc && sigAlg == TpmAlg.ECDSA) {
                return TpmtSignature.parse(new TpmWriter().u16(TpmAlg.ECDSA).u16(loaded.pub().schemeHashAlg())
                        .sized(ecc.signatureR).sized(ecc.signatureS).toBytes());
            }
            if (s instanceof TPMS_SIGNATURE_RSA rsa && sigAlg != TpmAlg.ECDSA) {
                return TpmtSignature.parse(new TpmWriter().u16(sigAlg).u16(HashAlg.SHA256.algId()).sized(rsa.sig).toBytes());
            }
        } catch (TpmFormatException e) {
            throw new SignatureException("TPM signature: " + e.getMessage(), e);
        }
        throw new SignatureException("TPM returned a " + s.getClass().getSimpleName() + " for scheme 0x" + Integer.toHexString(sigAlg));
    }

    /** ECDSA: what an ECC node key signs with. */
    public static TpmtSignature sign(Tpm2 tpm, TpmKey loaded, byte[] digest) throws SignatureException {
        return sign(tpm, loaded, digest, TpmAlg.ECDSA);
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
