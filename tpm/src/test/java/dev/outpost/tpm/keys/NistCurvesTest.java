package dev.outpost.tpm.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.EllipticCurve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The JDK's NIST curves map to one shared parameter set each; anything else, even of the same size, to none. */
class NistCurvesTest {
    private static ECParameterSpec jdk(String name) throws Exception {
        AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
        p.init(new ECGenParameterSpec(name));
        return p.getParameterSpec(ECParameterSpec.class);
    }

    @ParameterizedTest
    @CsvSource({"secp256r1, 256", "secp384r1, 384", "secp521r1, 521"})
    void theJdksNistCurvesMapToOneSharedInstance(String name, int bits) throws Exception {
        assertThat(NistCurves.of(jdk(name))).isNotNull().isSameAs(NistCurves.of(jdk(name)));
        assertThat(NistCurves.of(jdk(name)).getCurve().getFieldSize()).isEqualTo(bits);
    }

    @Test
    void aCurveOfTheSameSizeWithAnotherCoefficientOrGeneratorIsNotOne() throws Exception {
        ECParameterSpec p256 = jdk("secp256r1");
        EllipticCurve c = p256.getCurve();
        ECParameterSpec otherB = new ECParameterSpec(new EllipticCurve(c.getField(), c.getA(), c.getB().add(BigInteger.ONE)),
                p256.getGenerator(), p256.getOrder(), p256.getCofactor());
        ECParameterSpec otherOrder = new ECParameterSpec(c, p256.getGenerator(), p256.getOrder().subtract(BigInteger.TWO),
                p256.getCofactor());
        assertThat(NistCurves.of(otherB)).isNull();
        assertThat(NistCurves.of(otherOrder)).isNull();
        assertThat(NistCurves.of(null)).isNull();
    }
}
