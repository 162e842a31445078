package dev.outpost.bench.tpm;

import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;

import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;

import dev.outpost.tpm.HashAlg;

/** P-256 ECDSA verification by the JDK provider and by Bouncy Castle, for the provider choice in BENCHMARKS.md. */
final class EcdsaPrimitives {
    private static final X9ECParameters P256 = CustomNamedCurves.getByName("secp256r1");

    private EcdsaPrimitives() {
    }

    static boolean verifyBc(PublicKey key, byte[] message, byte[] der) {
        ECPublicKey pub = (ECPublicKey) key;
        ECDSASigner v = new ECDSASigner();
        v.init(false, new ECPublicKeyParameters(
                P256.getCurve().createPoint(pub.getW().getAffineX(), pub.getW().getAffineY()), new ECDomainParameters(P256)));
        ASN1Sequence seq = ASN1Sequence.getInstance(der);
        return v.verifySignature(HashAlg.SHA256.digest(message),
                ((ASN1Integer) seq.getObjectAt(0)).getPositiveValue(), ((ASN1Integer) seq.getObjectAt(1)).getPositiveValue());
    }

    static boolean verifyJdk(PublicKey key, byte[] message, byte[] der) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initVerify(key);
        s.update(message);
        return s.verify(der);
    }
}
