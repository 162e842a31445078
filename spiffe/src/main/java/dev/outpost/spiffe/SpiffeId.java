package dev.outpost.spiffe;

import dev.outpost.tpm.keys.DeviceId;
import io.spiffe.exception.InvalidSpiffeIdException;
import io.spiffe.spiffeid.TrustDomain;

/**
 * A SPIFFE ID, checked strictly against the SPIFFE ID standard by java-spiffe's parser (the reference the SPIFFE
 * project keeps for Java): we mint these and devices and federated peers compare them byte for byte, so anything
 * that two parsers could read differently is refused rather than normalised. This record adds the lengths the
 * standard caps, the IDs Outpost mints, and refusals that quote what was refused.
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
        if (path == null) {
            throw new IllegalArgumentException("SPIFFE ID path is null");
        }
        if (SCHEME.length() + trustDomain.length() + path.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("SPIFFE ID longer than " + MAX_LENGTH + " bytes");
        }
        if (!path.isEmpty()) {
            try {
                io.spiffe.spiffeid.SpiffeId.validatePath(path);
            } catch (InvalidSpiffeIdException | IllegalArgumentException e) {
                throw new IllegalArgumentException("not a SPIFFE ID path (" + e.getMessage() + "): " + quote(path));
            }
        }
    }

    public static SpiffeId parse(String id) {
        if (id == null) {
            throw new IllegalArgumentException("SPIFFE ID is missing");
        }
        if (id.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("SPIFFE ID longer than " + MAX_LENGTH + " bytes");
        }
        io.spiffe.spiffeid.SpiffeId parsed;
        try {
            parsed = io.spiffe.spiffeid.SpiffeId.parse(id);
        } catch (InvalidSpiffeIdException | IllegalArgumentException e) {
            throw new IllegalArgumentException("not a SPIFFE ID (" + e.getMessage() + "): " + quote(id));
        }
        // java-spiffe lowercases scheme and trust domain; an ID compared byte for byte must already be in that form.
        if (!parsed.toString().equals(id)) {
            throw new IllegalArgumentException("not a SPIFFE ID in canonical form (scheme and trust domain in lowercase): "
                    + quote(id));
        }
        return new SpiffeId(parsed.getTrustDomain().getName(), parsed.getPath());
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

    /** Throws with the reason when {@code td} is not a bare trust domain name (no scheme, port or path). */
    public static void checkTrustDomain(String td) {
        if (td == null || td.isEmpty()) {
            throw new IllegalArgumentException("trust domain is empty");
        }
        if (td.length() > MAX_TRUST_DOMAIN_LENGTH) {
            throw new IllegalArgumentException("trust domain longer than " + MAX_TRUST_DOMAIN_LENGTH + " characters");
        }
        // java-spiffe also takes "spiffe://td" for a trust domain; a configured name is the bare one.
        if (td.contains("/")) {
            throw new IllegalArgumentException("trust domain is a bare name, without spiffe:// or a path: " + quote(td));
        }
        String parsed;
        try {
            parsed = TrustDomain.parse(td).getName();
        } catch (InvalidSpiffeIdException | IllegalArgumentException e) {
            throw new IllegalArgumentException("not a trust domain name (" + e.getMessage() + "): " + quote(td));
        }
        if (!parsed.equals(td)) {
            throw new IllegalArgumentException("trust domain must be in lowercase: " + quote(td));
        }
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        String cut = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return "\"" + cut.replaceAll("[^\\x20-\\x7e…]", "?") + "\"";
    }

    @Override
    public String toString() {
        return SCHEME + trustDomain + path;
    }
}
