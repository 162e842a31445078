package dev.outpost.appliance.ca;

import dev.outpost.tpm.keys.DeviceId;

/**
 * A SPIFFE ID, checked strictly against the SPIFFE ID standard: we mint these and devices and federated
 * peers compare them byte for byte, so anything that two parsers could read differently is refused here
 * rather than normalised.
 *
 * @param trustDomain lowercase trust domain name, e.g. {@code site1.outpost.test}
 * @param path        empty (the trust domain's own ID) or {@code /seg/seg...}
 */
public record SpiffeId(String trustDomain, String path) {
    private static final String SCHEME = "spiffe://";
    /** The standard caps a SPIFFE ID at 2048 bytes; a trust domain at 255. */
    public static final int MAX_LENGTH = 2048;
    public static final int MAX_TRUST_DOMAIN_LENGTH = 255;

    public SpiffeId {
        checkTrustDomain(trustDomain);
        checkPath(path);
        if (SCHEME.length() + trustDomain.length() + path.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("SPIFFE ID longer than " + MAX_LENGTH + " bytes");
        }
    }

    public static SpiffeId parse(String id) {
        if (id == null) {
            throw new IllegalArgumentException("SPIFFE ID is missing");
        }
        if (id.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("SPIFFE ID longer than " + MAX_LENGTH + " bytes");
        }
        if (!id.startsWith(SCHEME)) {
            throw new IllegalArgumentException("SPIFFE ID must start with spiffe:// (scheme is lowercase): " + quote(id));
        }
        String rest = id.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        String td = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        return new SpiffeId(td, path);
    }

    /** The ID of the trust domain itself ({@code spiffe://td}), as carried in the URI SAN of CA certificates. */
    public static SpiffeId ofTrustDomain(String trustDomain) {
        return new SpiffeId(trustDomain, "");
    }

    /** A node's ID per DESIGN.md: {@code spiffe://<td>/agent/tpm/<device-id>}. */
    public static SpiffeId nodeId(String trustDomain, String deviceId) {
        if (!DeviceId.isValid(deviceId)) {
            throw new IllegalArgumentException("device id must be 64 lowercase hex characters: " + quote(deviceId));
        }
        return new SpiffeId(trustDomain, "/agent/tpm/" + deviceId);
    }

    /**
     * A newly enrolled device's probationary ID, {@code spiffe://<td>/agent/enrolling/<device-id>}: enough to reach
     * the appliance over mTLS and attest, and not the node's identity, which only a passing attestation earns.
     */
    public static SpiffeId enrollingId(String trustDomain, String deviceId) {
        if (!DeviceId.isValid(deviceId)) {
            throw new IllegalArgumentException("device id must be 64 lowercase hex characters: " + quote(deviceId));
        }
        return new SpiffeId(trustDomain, "/agent/enrolling/" + deviceId);
    }

    /** Throws with the reason when {@code td} is not a valid trust domain name. */
    public static void checkTrustDomain(String td) {
        if (td == null || td.isEmpty()) {
            throw new IllegalArgumentException("trust domain is empty");
        }
        if (td.length() > MAX_TRUST_DOMAIN_LENGTH) {
            throw new IllegalArgumentException("trust domain longer than " + MAX_TRUST_DOMAIN_LENGTH + " characters");
        }
        for (int i = 0; i < td.length(); i++) {
            char c = td.charAt(i);
            if (c == ':') {
                throw new IllegalArgumentException("trust domain must not contain a port: " + quote(td));
            }
            if (c == '@') {
                throw new IllegalArgumentException("trust domain must not contain userinfo: " + quote(td));
            }
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                throw new IllegalArgumentException("trust domain may only hold lowercase letters, digits, '.', '-' and '_', got "
                        + describe(c) + " in " + quote(td));
            }
        }
    }

    private static void checkPath(String path) {
        if (path == null) {
            throw new IllegalArgumentException("SPIFFE ID path is null");
        }
        if (path.isEmpty()) {
            return;
        }
        if (path.charAt(0) != '/') {
            throw new IllegalArgumentException("SPIFFE ID path must start with '/': " + quote(path));
        }
        int segStart = 1;
        for (int i = 1; i <= path.length(); i++) {
            if (i == path.length() || path.charAt(i) == '/') {
                String seg = path.substring(segStart, i);
                if (seg.isEmpty()) {
                    throw new IllegalArgumentException("SPIFFE ID path has an empty segment (or a trailing '/'): " + quote(path));
                }
                if (seg.equals(".") || seg.equals("..")) {
                    throw new IllegalArgumentException("SPIFFE ID path must not contain '.' or '..' segments: " + quote(path));
                }
                segStart = i + 1;
                continue;
            }
            char c = path.charAt(i);
            if (c == '?' || c == '#') {
                throw new IllegalArgumentException("SPIFFE ID must not carry a query or fragment: " + quote(path));
            }
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '_')) {
                throw new IllegalArgumentException("SPIFFE ID path may only hold letters, digits, '.', '-' and '_', got "
                        + describe(c) + " in " + quote(path));
            }
        }
    }

    private static String describe(char c) {
        return c >= 0x21 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        return "\"" + (s.length() > 80 ? s.substring(0, 80) + "…" : s) + "\"";
    }

    @Override
    public String toString() {
        return SCHEME + trustDomain + path;
    }
}
