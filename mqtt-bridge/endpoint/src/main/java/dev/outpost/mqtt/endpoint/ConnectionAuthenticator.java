package dev.outpost.mqtt.endpoint;

import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509TrustManager;

import io.netty.handler.codec.mqtt.MqttConnectReturnCode;

/**
 * Decides who a connection is, at CONNECT. TLS has already validated any client certificate against the trust
 * anchors; this checks what TLS cannot: the SPIFFE ID's shape and trust domain, and that the client id is the device
 * the certificate names, so a device can never act under another's id.
 */
final class ConnectionAuthenticator {
    static final int MQTT_5 = 5;
    private static final int SAN_URI = 6;

    private final String svidPrefix;
    private final String enrollingPrefix;
    private final ConnectionPolicy policy;
    private final X509TrustManager anchors;

    ConnectionAuthenticator(String trustDomain, ConnectionPolicy policy, X509TrustManager anchors) {
        this.svidPrefix = "spiffe://" + trustDomain + "/agent/tpm/";
        this.enrollingPrefix = "spiffe://" + trustDomain + "/agent/enrolling/";
        this.policy = policy;
        this.anchors = anchors;
    }

    /** Outcome of CONNECT: either an identity or the refusal code with its reason. */
    record Outcome(String deviceId, boolean authenticated, X509Certificate certificate, MqttConnectReturnCode refusal,
            String reason) {
        boolean accepted() {
            return refusal == null;
        }

        static Outcome refuse(MqttConnectReturnCode code, String reason) {
            return new Outcome(null, false, null, code, reason);
        }
    }

    Outcome authenticate(int protocolVersion, String clientId, SSLSession session) {
        if (protocolVersion != MQTT_5) {
            // MQTT 3 clients only understand 3.x return codes
            return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION,
                    "MQTT protocol level " + protocolVersion + ", only MQTT 5 is accepted");
        }
        if (session == null) {
            return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5, "not TLS");
        }
        X509Certificate[] chain = peerChain(session);
        X509Certificate leaf = chain == null ? null : chain[0];
        if (leaf == null) {
            if (!DeviceIds.isValid(clientId)) {
                return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_CLIENT_IDENTIFIER_NOT_VALID,
                        "client id is not a device id (64 lowercase hex)");
            }
            return policyCheck(new Outcome(clientId, false, null, null, null));
        }
        // A resumed TLS session skips the trust manager: check the chain against today's anchors and clock again,
        // so a replaced bundle or an expired SVID does not live on in the session cache.
        try {
            anchors.checkClientTrusted(chain, leaf.getPublicKey().getAlgorithm());
        } catch (CertificateException | RuntimeException e) {
            return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5,
                    "client certificate no longer valid against the current trust anchors: " + e.getMessage());
        }
        String spiffeId;
        try {
            spiffeId = singleUriSan(leaf);
        } catch (IllegalArgumentException e) {
            return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5, e.getMessage());
        }
        if (leaf.getBasicConstraints() != -1) {
            return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5,
                    "client certificate is a CA certificate, not an SVID");
        }
        // A node SVID, or the probationary one of a device that enrolled and is proving itself: both name the device.
        String prefix = spiffeId.startsWith(svidPrefix) ? svidPrefix : spiffeId.startsWith(enrollingPrefix) ? enrollingPrefix : null;
        if (prefix == null || !DeviceIds.isValid(spiffeId.substring(prefix.length()))) {
            return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5,
                    "SPIFFE ID " + DeviceIds.shortForm(spiffeId) + " is not a node SVID of this trust domain ("
                            + svidPrefix + "<device id>)");
        }
        String deviceId = spiffeId.substring(prefix.length());
        if (!deviceId.equals(clientId)) {
            return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5,
                    "client id " + DeviceIds.shortForm(clientId) + " does not match the SVID's device id " + deviceId);
        }
        return policyCheck(new Outcome(deviceId, true, leaf, null, null));
    }

    private Outcome policyCheck(Outcome o) {
        boolean ok;
        try {
            ok = policy.mayConnect(o.deviceId(), o.authenticated());
        } catch (RuntimeException e) {
            // fail closed: a broken policy must not let devices in
            return Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE_5,
                    "connection policy failed: " + e);
        }
        return ok ? o : Outcome.refuse(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5,
                "refused by the connection policy");
    }

    private static X509Certificate[] peerChain(SSLSession session) {
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        if (chain.length == 0) {
            return null;
        }
        X509Certificate[] out = new X509Certificate[chain.length];
        for (int i = 0; i < chain.length; i++) {
            if (!(chain[i] instanceof X509Certificate x)) {
                return null;
            }
            out[i] = x;
        }
        return out;
    }

    // X509-SVID standard: exactly one URI SAN, and it is the SPIFFE ID
    private static String singleUriSan(X509Certificate cert) {
        Collection<List<?>> sans;
        try {
            sans = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("client certificate SANs unreadable");
        }
        List<String> uris = new ArrayList<>();
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.size() == 2 && Integer.valueOf(SAN_URI).equals(san.get(0))) {
                    uris.add(String.valueOf(san.get(1)));
                }
            }
        }
        if (uris.size() != 1) {
            throw new IllegalArgumentException("client certificate has " + uris.size() + " URI SANs, an SVID has exactly one");
        }
        return uris.get(0);
    }
}
