package dev.outpost.tpm.certify;

import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.keys.Templates;
import dev.outpost.tpm.quote.AttestSignature;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmsAttest;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * Verifies a TPM2_Certify of a node key in pure Java: the AK's signature over the exact TPMS_ATTEST bytes first, so
 * nothing the sender wrote is trusted before it is known to come from the TPM; then the type, signer and nonce; then
 * that the certified Name is the Name of the key presented, that the key is one the TPM made and will never release
 * (fixedTPM, fixedParent, sensitiveDataOrigin), a plain signing key (sign; not decrypt, not restricted), and that it is
 * the key in the CSR. Every refusal names its reason. Stateless and thread-safe.
 */
public final class CertifyVerifier {
    private static final HexFormat HEX = HexFormat.of();

    /**
     * @param ak       the device's attestation key
     * @param signerQn the AK's qualified name (under the enrolled EK), or null to skip that check
     * @param nonce    what the verifier expects in extraData
     * @param csrKey   the public key of the CSR the certification is for, or null to skip that check
     */
    public record Expectation(TpmPublic ak, byte[] signerQn, byte[] nonce, PublicKey csrKey) {
        public Expectation {
            Objects.requireNonNull(ak, "ak");
            Objects.requireNonNull(nonce, "nonce");
        }
    }

    public CertifyResult verify(Expectation expected, Certification c) {
        if (c == null || c.keyPublic() == null || c.attest() == null || c.signature() == null) {
            return CertifyResult.invalid(CertifyFailure.MISSING, "nodeKeyPublic, certifyInfo and certifySignature are "
                    + "required");
        }
        TpmtSignature sig;
        try {
            sig = TpmtSignature.parse(c.signature());
        } catch (TpmFormatException e) {
            return CertifyResult.invalid(CertifyFailure.MALFORMED, e.getMessage());
        }
        Optional<String> scheme = AttestSignature.schemeProblem(expected.ak().publicKey(), expected.ak(), sig);
        if (scheme.isPresent()) {
            return CertifyResult.invalid(CertifyFailure.SCHEME_MISMATCH, scheme.get());
        }
        if (!AttestSignature.verifies(expected.ak().publicKey(), sig, c.attest())) {
            return CertifyResult.invalid(CertifyFailure.BAD_SIGNATURE, sig.schemeName() + "/" + sig.hash()
                    + " signature does not verify with AK " + HEX.formatHex(expected.ak().name()));
        }
        TpmsAttest attest;
        try {
            attest = TpmsAttest.parse(c.attest());
        } catch (TpmFormatException e) {
            return CertifyResult.invalid(CertifyFailure.MALFORMED, e.getMessage());
        }
        if (attest.magic() != TpmsAttest.TPM_GENERATED_VALUE) {
            return CertifyResult.invalid(CertifyFailure.BAD_MAGIC, "magic 0x" + Integer.toHexString(attest.magic()));
        }
        if (attest.type() != TpmsAttest.ST_ATTEST_CERTIFY) {
            return CertifyResult.invalid(CertifyFailure.NOT_A_CERTIFICATION, "type 0x" + Integer.toHexString(attest.type()));
        }
        if (expected.signerQn() != null && !MessageDigest.isEqual(expected.signerQn(), attest.qualifiedSigner())) {
            return CertifyResult.invalid(CertifyFailure.WRONG_SIGNER, "signed by " + HEX.formatHex(attest.qualifiedSigner())
                    + ", expected " + HEX.formatHex(expected.signerQn()));
        }
        if (!MessageDigest.isEqual(expected.nonce(), attest.extraData())) {
            return CertifyResult.invalid(CertifyFailure.NONCE_MISMATCH, "extraData " + HEX.formatHex(attest.extraData())
                    + " is not the nonce issued");
        }
        TpmPublic key;
        try {
            key = TpmPublic.parseSized(c.keyPublic());
        } catch (TpmFormatException e) {
            return CertifyResult.invalid(CertifyFailure.MALFORMED, "nodeKeyPublic: " + e.getMessage());
        }
        if (!MessageDigest.isEqual(key.name(), attest.certifiedName())) {
            return CertifyResult.invalid(CertifyFailure.NAME_MISMATCH, "certified " + HEX.formatHex(attest.certifiedName())
                    + ", the key presented is " + HEX.formatHex(key.name()));
        }
        if (key.nameAlg() == HashAlg.SHA1) {
            return CertifyResult.invalid(CertifyFailure.WEAK_NAME_ALG, "nameAlg " + key.nameAlg());
        }
        String problem = attributeProblem(key);
        if (problem != null) {
            return CertifyResult.invalid(CertifyFailure.WRONG_ATTRIBUTES, problem);
        }
        if (expected.csrKey() != null && !Arrays.equals(expected.csrKey().getEncoded(), key.publicKey().getEncoded())) {
            return CertifyResult.invalid(CertifyFailure.KEY_MISMATCH, "the CSR's key is not the certified "
                    + key.describeKey() + " key " + HEX.formatHex(key.name()));
        }
        return CertifyResult.valid(key);
    }

    /** Why a key is not acceptable as a node key, or null when it is. */
    public static String attributeProblem(TpmPublic key) {
        int a = key.attributes();
        String missing = ObjectAttributes.missing(a, Templates.NODE_KEY_REQUIRED);
        String forbidden = ObjectAttributes.describe(a & Templates.NODE_KEY_FORBIDDEN);
        if (missing.isEmpty() && forbidden.isEmpty()) {
            return null;
        }
        StringBuilder b = new StringBuilder("node key attributes ").append(ObjectAttributes.describe(a));
        if (!missing.isEmpty()) {
            b.append(": lacks ").append(missing);
        }
        if (!forbidden.isEmpty()) {
            b.append(missing.isEmpty() ? ": " : "; ").append("must not be ").append(forbidden);
        }
        return b.toString();
    }
}
