package dev.outpost.tpm.quote;

import java.security.PublicKey;
import java.util.Objects;

import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmPublic;

/**
 * What a verifier knows before it looks at a quote: the attestation key, the nonce it issued, the PCR
 * selection it asked for, and (when it knows the key's parent) the signer's qualified name.
 *
 * @param akKey        the AK's public key
 * @param akPublic     the AK's TPMT_PUBLIC when known; then the signature scheme must be the AK's own
 * @param signerQn     the expected qualifiedSigner, or null to skip that check (only where the key's parent is
 *                     unknown, e.g. an offline check of a bare PEM key)
 * @param nonce        the nonce the verifier issued
 * @param selection    the PCR selection the verifier asked for
 */
public record QuoteExpectation(PublicKey akKey, TpmPublic akPublic, byte[] signerQn, byte[] nonce,
        PcrSelection selection) {

    public QuoteExpectation {
        Objects.requireNonNull(akKey, "akKey");
        Objects.requireNonNull(nonce, "nonce");
        Objects.requireNonNull(selection, "selection");
    }

    public static QuoteExpectation of(TpmPublic ak, byte[] signerQn, byte[] nonce, PcrSelection selection) {
        return new QuoteExpectation(ak.publicKey(), ak, signerQn, nonce, selection);
    }
}
