package dev.outpost.appliance.ca;

import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;

import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.Signer;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.signers.DSADigestSigner;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultDigestAlgorithmIdentifierFinder;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.bc.BcECContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import dev.outpost.mqtt.protocol.transport.Providers;
import dev.outpost.tpm.keys.NistCurves;

/**
 * Signs the certificates the site CA issues: SHA256withECDSA, as before, over Bouncy Castle's arithmetic on the
 * shared NIST curve parameters, with the nonce derived from the key and the message (RFC 6979).
 *
 * <p>Why not the JCA: through a {@code Signature} every signature converted the CA key's parameters into a new
 * generator point and first rebuilt its window table, most of the signature's time (BENCHMARKS.md, the workload
 * SVIDs per second and the enrollment storm). Why RFC 6979: a signature's nonce then owes nothing to the random
 * generator of the moment, whose failure would leak the CA key. A key on any other curve, or not EC, goes through
 * the JCA as before.
 */
final class CertificateSigner {
    private static final String ALGORITHM = "SHA256withECDSA";
    private static final AlgorithmIdentifier SIG = new DefaultSignatureAlgorithmIdentifierFinder().find(ALGORITHM);
    private static final AlgorithmIdentifier DIGEST = new DefaultDigestAlgorithmIdentifierFinder().find(SIG);

    private CertificateSigner() {
    }

    static ContentSigner of(PrivateKey key) throws OperatorCreationException {
        if (key instanceof ECPrivateKey ec) {
            ECDomainParameters domain = NistCurves.of(ec.getParams());
            if (domain != null) {
                return new Deterministic().build(new ECPrivateKeyParameters(ec.getS(), domain));
            }
        }
        return new JcaContentSignerBuilder(ALGORITHM).setProvider(Providers.bouncyCastle()).build(key);
    }

    private static final class Deterministic extends BcECContentSignerBuilder {
        Deterministic() {
            super(SIG, DIGEST);
        }

        @Override
        protected Signer createSigner(AlgorithmIdentifier sigAlgId, AlgorithmIdentifier digAlgId)
                throws OperatorCreationException {
            return new DSADigestSigner(new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest())),
                    digestProvider.get(digAlgId));
        }
    }
}
