package dev.outpost.appliance.ca;

import java.security.KeyPair;

/**
 * Who signs the next site CA during rotation: the site itself (standalone, a new root) or central over the upstream
 * link (nested, online). A nested site without a link has none: the operator installs the next CA by file.
 */
public interface NextCaSigner {
    /**
     * Gets the next CA certificate for {@code key}. Blocking (network, key operations): called on a worker.
     *
     * @param csrPem the request for {@code key}, as {@link CaCsr} makes it
     * @return our certificate and intermediates, and the roots above them (checked by {@link InstallCheck} after)
     * @throws Exception when it cannot now (offline, refused): rotation retries with back-off and says why
     */
    Signed sign(KeyPair key, String csrPem) throws Exception;

    /** What a signer returns: PEM as on the wire, checked like an operator's install. */
    record Signed(String certificatePem, String chainPem) {
    }

    /** What the operator and the metrics call it. */
    String describe();
}
