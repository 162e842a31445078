package dev.outpost.tpm.quote;

import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Optional;

import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * The check every AK-signed TPMS_ATTEST shares (quotes, key certifications): is the signature in the key's own scheme,
 * and does it verify over the exact bytes the TPM produced. Pure Java, stateless, thread-safe.
 */
public final class AttestSignature {
    private AttestSignature() {
    }

    /**
     * Why a signature cannot come from this key, or empty. A restricted signing key has one fixed scheme; a signature
     * in any other scheme cannot come from it.
     *
     * @param keyPublic the key's TPMT_PUBLIC when known (its scheme is then enforced), or null
     */
    public static Optional<String> schemeProblem(PublicKey key, TpmPublic keyPublic, TpmtSignature sig) {
        if (sig.isEcdsa() != (key instanceof ECPublicKey)) {
            return Optional.of(sig.schemeName() + " signature for a " + key.getAlgorithm() + " key");
        }
        if (!sig.isEcdsa() && !(key instanceof RSAPublicKey)) {
            return Optional.of("unsupported key type " + key.getAlgorithm());
        }
        if (sig.sigAlg() == TpmAlg.RSAPSS) {
            return Optional.of("RSAPSS attestation signatures are not supported; use an RSASSA or ECDSA attestation key");
        }
        if (keyPublic != null && keyPublic.schemeAlg() != TpmAlg.NULL) {
            if (keyPublic.schemeAlg() != sig.sigAlg() || keyPublic.schemeHashAlg() != sig.hash().algId()) {
                return Optional.of("signature is " + sig.schemeName() + "/" + sig.hash()
                        + ", the key's scheme is 0x" + Integer.toHexString(keyPublic.schemeAlg()) + "/0x"
                        + Integer.toHexString(keyPublic.schemeHashAlg()));
            }
        }
        return Optional.empty();
    }

    /** True when the signature verifies over {@code message} (hashed with the signature's hash) under {@code key}. */
    public static boolean verifies(PublicKey key, TpmtSignature sig, byte[] message) {
        if (sig.isEcdsa()) {
            return key instanceof ECPublicKey ec
                    && EcdsaVerifier.verify(ec, sig.hash().digest(message), sig.ecdsaR(), sig.ecdsaS());
        }
        try {
            Signature v = Signature.getInstance(jcaName(sig));
            v.initVerify(key);
            v.update(message);
            return v.verify(sig.rsaSignature());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    private static String jcaName(TpmtSignature sig) throws GeneralSecurityException {
        String h = switch (sig.hash()) {
            case SHA1 -> "SHA1";
            case SHA256 -> "SHA256";
            case SHA384 -> "SHA384";
            case SHA512 -> "SHA512";
            default -> throw new GeneralSecurityException("no JCA signature with " + sig.hash());
        };
        return h + "withRSA";
    }
}
