package dev.outpost.tpm.keys;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Optional;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import tss.TpmException;
import tss.tpm.CreatePrimaryResponse;
import tss.tpm.NV_ReadPublicResponse;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;
import tss.tpm.ReadPublicResponse;

/** The endorsement key and its certificate, read from the TPM. */
public final class Endorsement {
    private static final int NV_CHUNK = 512;
    private static final int MAX_CERT = 4096;

    private Endorsement() {
    }

    /**
     * The EK of a template: the key persisted at the conventional handle when it is there and of that template's
     * type, else one created now from the template (transient: close the returned key).
     */
    public static TpmKey load(Tpm2 tpm, EkTemplate template) {
        Optional<TpmPublic> persisted = readPersistent(tpm, template.persistentHandle());
        if (persisted.isPresent() && sameKind(persisted.get(), template)) {
            return new TpmKey(tpm, TPM_HANDLE.persistent(template.persistentHandle() & 0x00FFFFFF), persisted.get(), false);
        }
        return createPrimary(tpm, template);
    }

    /** Creates the EK from the TCG template, ignoring any persisted copy. */
    public static TpmKey createPrimary(Tpm2 tpm, EkTemplate template) {
        CreatePrimaryResponse r = tpm.tss().CreatePrimary(TPM_HANDLE.from(TPM_RH.ENDORSEMENT),
                new TPMS_SENSITIVE_CREATE(), TPMT_PUBLIC.fromBytes(template.template()), new byte[0],
                new TPMS_PCR_SELECTION[0]);
        try {
            return new TpmKey(tpm, r.handle, TpmPublic.parse(r.outPublic.toBytes()), true);
        } catch (TpmFormatException e) {
            tpm.flush(r.handle);
            throw new IllegalStateException("TPM returned an EK we cannot parse: " + e.getMessage(), e);
        }
    }

    private static boolean sameKind(TpmPublic pub, EkTemplate t) {
        return pub.type() == t.keyType() && pub.curve() == t.curve() && pub.nameAlg() == t.nameAlg()
                && pub.attributes() == t.attributes();
    }

    static Optional<TpmPublic> readPersistent(Tpm2 tpm, int handle) {
        try {
            ReadPublicResponse r = tpm.tss()._allowErrors().ReadPublic(TPM_HANDLE.persistent(handle & 0x00FFFFFF));
            if (!tpm.tss()._lastCommandSucceeded() || r == null) {
                return Optional.empty();
            }
            return Optional.of(TpmPublic.parse(r.outPublic.toBytes()));
        } catch (TpmException | TpmFormatException e) {
            return Optional.empty();
        }
    }

    /** The EK certificate stored at an NV index, if the index exists. */
    public static Optional<byte[]> readCertificate(Tpm2 tpm, int nvIndex) {
        TPM_HANDLE index = TPM_HANDLE.NV(nvIndex & 0x00FFFFFF);
        NV_ReadPublicResponse pub;
        try {
            pub = tpm.tss()._allowErrors().NV_ReadPublic(index);
            if (!tpm.tss()._lastCommandSucceeded() || pub == null) {
                return Optional.empty();
            }
        } catch (TpmException e) {
            return Optional.empty();
        }
        int size = pub.nvPublic.dataSize;
        if (size <= 0 || size > MAX_CERT) {
            throw new IllegalStateException("EK certificate index 0x" + Integer.toHexString(nvIndex) + " holds "
                    + size + " bytes");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        for (int off = 0; off < size; off += NV_CHUNK) {
            int n = Math.min(NV_CHUNK, size - off);
            out.writeBytes(tpm.tss().NV_Read(index, index, n, off));
        }
        return Optional.of(trimDer(out.toByteArray()));
    }

    // NV indices are often larger than the certificate and padded; keep exactly the DER SEQUENCE.
    static byte[] trimDer(byte[] b) {
        if (b.length < 4 || (b[0] & 0xFF) != 0x30) {
            return b;
        }
        int len;
        int hdr;
        int first = b[1] & 0xFF;
        if (first < 0x80) {
            len = first;
            hdr = 2;
        } else if (first == 0x81) {
            len = b[2] & 0xFF;
            hdr = 3;
        } else if (first == 0x82) {
            len = ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
            hdr = 4;
        } else {
            return b;
        }
        int total = hdr + len;
        return total <= b.length ? java.util.Arrays.copyOf(b, total) : b;
    }

    public static X509Certificate parseCertificate(byte[] der) throws CertificateException {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    }

    /** True when the certificate certifies exactly this public key. */
    public static boolean certifies(X509Certificate cert, PublicKey key) {
        return java.util.Arrays.equals(cert.getPublicKey().getEncoded(), key.getEncoded());
    }
}
