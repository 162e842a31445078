package dev.outpost.tpm.keys;

import java.math.BigInteger;
import java.security.spec.ECFieldFp;
import java.security.spec.ECParameterSpec;
import java.util.List;

import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;

/**
 * The NIST prime curves (P-256, P-384, P-521) as Bouncy Castle's custom-curve arithmetic, one shared instance each.
 *
 * <p>Why shared: Bouncy Castle keeps the window tables of a point's multiplications on the point object. Through the
 * JCA (a {@code KeyPairGenerator}, a {@code Signature} with a JDK key) every call converts the key's parameters into a
 * new generator point, so each key pair or signature first rebuilt the generator's table: most of a signature's time
 * (BENCHMARKS.md). Through these parameters the table is built once per process.
 */
public final class NistCurves {
    public static final ECDomainParameters P256 = domain("secp256r1");
    public static final ECDomainParameters P384 = domain("secp384r1");
    public static final ECDomainParameters P521 = domain("secp521r1");
    private static final List<ECDomainParameters> KNOWN = List.of(P256, P384, P521);

    private NistCurves() {
    }

    private static ECDomainParameters domain(String name) {
        X9ECParameters x9 = CustomNamedCurves.getByName(name);
        return new ECDomainParameters(x9.getCurve(), x9.getG(), x9.getN(), x9.getH(), x9.getSeed());
    }

    /**
     * The shared parameters of the curve {@code spec} describes, or null when it is not one of the three: compared in
     * full (field, coefficients, generator, order, cofactor), never by size alone.
     */
    public static ECDomainParameters of(ECParameterSpec spec) {
        if (spec == null || !(spec.getCurve().getField() instanceof ECFieldFp fp)) {
            return null;
        }
        for (ECDomainParameters d : KNOWN) {
            if (d.getCurve().getField().getCharacteristic().equals(fp.getP())
                    && d.getCurve().getA().toBigInteger().equals(spec.getCurve().getA())
                    && d.getCurve().getB().toBigInteger().equals(spec.getCurve().getB())
                    && d.getG().getAffineXCoord().toBigInteger().equals(spec.getGenerator().getAffineX())
                    && d.getG().getAffineYCoord().toBigInteger().equals(spec.getGenerator().getAffineY())
                    && d.getN().equals(spec.getOrder())
                    && d.getH().equals(BigInteger.valueOf(spec.getCofactor()))) {
                return d;
            }
        }
        return null;
    }
}
