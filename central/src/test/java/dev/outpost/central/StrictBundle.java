package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.spiffeid.TrustDomain;

/**
 * A reader of SPIFFE bundles written for the tests from the SPIFFE Trust Domain and Bundle standard (§4), not
 * from central's code: keys is an array; an x509-svid key has kty, x5c with exactly one base64 DER certificate
 * whose key equals the JWK's; spiffe_sequence and spiffe_refresh_hint are integers. The result is a java-spiffe
 * {@link X509Bundle}, the SPIFFE project's own type.
 */
final class StrictBundle {
    record Read(X509Bundle bundle, long sequence, long refreshHint) {
    }

    private StrictBundle() {
    }

    static Read read(String trustDomain, JsonNode doc) throws Exception {
        assertThat(doc.isObject()).isTrue();
        assertThat(doc.get("keys").isArray()).isTrue();
        assertThat(doc.get("spiffe_sequence").isIntegralNumber()).isTrue();
        assertThat(doc.get("spiffe_refresh_hint").isIntegralNumber()).isTrue();
        Set<X509Certificate> authorities = new HashSet<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        for (Iterator<JsonNode> it = doc.get("keys").elements(); it.hasNext();) {
            JsonNode k = it.next();
            assertThat(k.get("use").asText()).isIn("x509-svid", "jwt-svid");
            if (!"x509-svid".equals(k.get("use").asText())) {
                continue;
            }
            assertThat(k.get("x5c").size()).isEqualTo(1);
            X509Certificate c = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(
                    Base64.getDecoder().decode(k.get("x5c").get(0).asText())));
            assertThat(k.get("kty").asText()).isEqualTo("EC");
            assertThat(k.get("crv").asText()).isEqualTo("P-256");
            ECPublicKey pub = (ECPublicKey) c.getPublicKey();
            assertThat(new BigInteger(1, Base64.getUrlDecoder().decode(k.get("x").asText()))).isEqualTo(pub.getW().getAffineX());
            assertThat(new BigInteger(1, Base64.getUrlDecoder().decode(k.get("y").asText()))).isEqualTo(pub.getW().getAffineY());
            authorities.add(c);
        }
        return new Read(new X509Bundle(TrustDomain.parse(trustDomain), authorities), doc.get("spiffe_sequence").asLong(),
                doc.get("spiffe_refresh_hint").asLong());
    }

    static List<X509Certificate> list(Read r) {
        return new ArrayList<>(r.bundle().getX509Authorities());
    }
}
