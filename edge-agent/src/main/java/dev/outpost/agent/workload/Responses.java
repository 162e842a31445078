package dev.outpost.agent.workload;

import java.io.ByteArrayOutputStream;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import io.grpc.Status;
import io.grpc.StatusException;
import io.spiffe.workloadapi.grpc.Workload.JWTBundlesResponse;
import io.spiffe.workloadapi.grpc.Workload.X509BundlesResponse;
import io.spiffe.workloadapi.grpc.Workload.X509SVID;
import io.spiffe.workloadapi.grpc.Workload.X509SVIDResponse;

/**
 * The Workload API's messages from what the agent holds. Bundles are keyed by trust domain ID
 * ({@code spiffe://<td>}), as SPIRE does; certificates are concatenated DER, keys PKCS#8 DER, JWKS as UTF-8 JSON.
 */
final class Responses {
    private Responses() {
    }

    static X509SVIDResponse x509(List<X509Svids.Held> svids, TrustBundles t, Set<String> federatesWith)
            throws StatusException {
        X509SVIDResponse.Builder b = X509SVIDResponse.newBuilder();
        ByteString own = der(t.x509());
        for (X509Svids.Held h : svids) {
            b.addSvids(X509SVID.newBuilder()
                    .setSpiffeId(h.entry().spiffeId())
                    .setX509Svid(der(h.chain()))
                    .setX509SvidKey(ByteString.copyFrom(h.key().getPrivate().getEncoded()))
                    .setBundle(own));
        }
        for (String td : federatesWith) {
            List<X509Certificate> f = t.federated().get(td);
            if (f != null && !f.isEmpty()) {
                b.putFederatedBundles(id(td), der(f));
            }
        }
        return b.build();
    }

    static X509BundlesResponse x509Bundles(TrustBundles t, Set<String> federatesWith) throws StatusException {
        X509BundlesResponse.Builder b = X509BundlesResponse.newBuilder().putBundles(id(t.trustDomain()), der(t.x509()));
        for (String td : federatesWith) {
            List<X509Certificate> f = t.federated().get(td);
            if (f != null && !f.isEmpty()) {
                b.putBundles(id(td), der(f));
            }
        }
        return b.build();
    }

    static JWTBundlesResponse jwtBundles(TrustBundles t, Set<String> federatesWith) throws StatusException {
        JWTBundlesResponse.Builder b = JWTBundlesResponse.newBuilder();
        Map<String, String> jwt = t.jwtAuthorities();
        if (!jwt.containsKey(t.trustDomain())) {
            throw Status.UNAVAILABLE.withDescription("the site bundle carries no JWT authorities yet").asException();
        }
        b.putBundles(id(t.trustDomain()), ByteString.copyFrom(jwt.get(t.trustDomain()), StandardCharsets.UTF_8));
        for (String td : federatesWith) {
            if (jwt.containsKey(td)) {
                b.putBundles(id(td), ByteString.copyFrom(jwt.get(td), StandardCharsets.UTF_8));
            }
        }
        return b.build();
    }

    static String id(String trustDomain) {
        return "spiffe://" + trustDomain;
    }

    private static ByteString der(List<X509Certificate> certs) throws StatusException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            for (X509Certificate c : certs) {
                out.writeBytes(c.getEncoded());
            }
        } catch (CertificateEncodingException e) {
            throw Status.INTERNAL.withDescription("certificate encoding").asException();
        }
        return ByteString.copyFrom(out.toByteArray());
    }

    /** JWT claims as a protobuf Struct (what ValidateJWTSVID returns). */
    static Struct struct(JsonNode object) {
        Struct.Builder b = Struct.newBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            b.putFields(e.getKey(), value(e.getValue(), 0));
        }
        return b.build();
    }

    private static Value value(JsonNode n, int depth) {
        if (depth > 16) {
            return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
        }
        if (n.isObject()) {
            Struct.Builder b = Struct.newBuilder();
            n.fields().forEachRemaining(e -> b.putFields(e.getKey(), value(e.getValue(), depth + 1)));
            return Value.newBuilder().setStructValue(b).build();
        }
        if (n.isArray()) {
            ListValue.Builder l = ListValue.newBuilder();
            n.forEach(x -> l.addValues(value(x, depth + 1)));
            return Value.newBuilder().setListValue(l).build();
        }
        if (n.isNumber()) {
            return Value.newBuilder().setNumberValue(n.asDouble()).build();
        }
        if (n.isBoolean()) {
            return Value.newBuilder().setBoolValue(n.asBoolean()).build();
        }
        if (n.isNull()) {
            return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
        }
        return Value.newBuilder().setStringValue(n.asText()).build();
    }
}
