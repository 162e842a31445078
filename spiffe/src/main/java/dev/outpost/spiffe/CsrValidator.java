package dev.outpost.spiffe;

import java.security.PublicKey;
import java.util.Set;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

/**
 * Checks a PKCS#10 request from a device and returns the key to certify. Only two things in a CSR count: the
 * public key and the proof that the sender holds its private key. Subject and requested extensions are
 * ignored on purpose: the identity comes from attestation, never from what the device asks for.
 */
public final class CsrValidator {
    /** What a sensible device sends; anything with SHA-1 or MD5 is refused. */
    private static final Set<ASN1ObjectIdentifier> SIGNATURE_ALGORITHMS = Set.of(
            X9ObjectIdentifiers.ecdsa_with_SHA256, X9ObjectIdentifiers.ecdsa_with_SHA384,
            X9ObjectIdentifiers.ecdsa_with_SHA512,
            PKCSObjectIdentifiers.sha256WithRSAEncryption, PKCSObjectIdentifiers.sha384WithRSAEncryption,
            PKCSObjectIdentifiers.sha512WithRSAEncryption, PKCSObjectIdentifiers.id_RSASSA_PSS);
    // A private provider instance: verifies RSASSA-PSS with parameters the JDK names differently, without
    // installing Bouncy Castle process-wide.
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private CsrValidator() {
    }

    public static PublicKey validate(byte[] der, int maxBytes) throws CsrException {
        if (der == null || der.length == 0) {
            throw new CsrException("CSR is empty");
        }
        if (der.length > maxBytes) {
            throw new CsrException("CSR is " + der.length + " bytes, over the " + maxBytes + " byte limit");
        }
        JcaPKCS10CertificationRequest csr;
        try {
            csr = new JcaPKCS10CertificationRequest(der);
        } catch (Exception | StackOverflowError e) {
            throw new CsrException("CSR is not a DER PKCS#10 request: " + e.getMessage());
        }
        ASN1ObjectIdentifier sigAlg = csr.getSignatureAlgorithm().getAlgorithm();
        if (!SIGNATURE_ALGORITHMS.contains(sigAlg)) {
            throw new CsrException("CSR signature algorithm " + sigAlg.getId() + " is not accepted");
        }
        PublicKey key;
        try {
            key = csr.getPublicKey();
        } catch (Exception e) {
            throw new CsrException("CSR public key cannot be read: " + e.getMessage());
        }
        String weak = KeyPolicy.rejection(key);
        if (weak != null) {
            throw new CsrException("CSR key refused: " + weak);
        }
        boolean valid;
        try {
            ContentVerifierProvider verifier = new JcaContentVerifierProviderBuilder().setProvider(BC).build(key);
            valid = csr.isSignatureValid(verifier);
        } catch (Exception e) {
            throw new CsrException("CSR signature cannot be checked: " + e.getMessage());
        }
        if (!valid) {
            throw new CsrException("CSR signature does not verify with its own key (no proof of possession)");
        }
        return key;
    }
}
