package dev.outpost.ima.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Loads a runtime policy for use. With trusted keys, only a DSSE envelope that verifies is accepted (a plain
 * policy is refused as "not signed"); without keys, a plain policy loads and an envelope is refused, since an
 * unverified signature must never look like a verified one.
 */
public final class PolicyLoader {
    private final RuntimePolicyJson json;
    private final DsseVerifier verifier;

    public PolicyLoader(PolicyLimits limits, List<PublicKey> trustedKeys) {
        this.json = new RuntimePolicyJson(limits);
        this.verifier = trustedKeys == null || trustedKeys.isEmpty() ? null : new DsseVerifier(trustedKeys);
    }

    public static PolicyLoader unsigned() {
        return new PolicyLoader(PolicyLimits.DEFAULT, List.of());
    }

    public static PolicyLoader signedBy(List<PublicKey> keys) {
        return new PolicyLoader(PolicyLimits.DEFAULT, keys);
    }

    public RuntimePolicy load(byte[] bytes) {
        return load(bytes, null);
    }

    /**
     * Loads with the "digests" map delivered to {@code digests} (see {@link RuntimePolicyJson#read(byte[],
     * DigestSink)}); the same checks, signed or not, as {@link #load(byte[])}.
     */
    public RuntimePolicy load(byte[] bytes, DigestSink digests) {
        if (json.isEnvelope(bytes)) {
            if (verifier == null) {
                throw new PolicyException("$: policy is a DSSE envelope but no signing key was given to verify it");
            }
            JsonNode root = json.tree(bytes, "DSSE envelope");
            byte[] payload = verifier.verify(DsseEnvelope.fromTree(root), DsseEnvelope.KEYLIME_PAYLOAD_TYPE);
            return json.read(payload, digests);
        }
        if (verifier != null) {
            throw new PolicyException("$: Runtime policy is not signed");
        }
        return json.read(bytes, digests);
    }

    public RuntimePolicy load(InputStream in) throws IOException {
        return load(json.readBounded(in));
    }

    public RuntimePolicy load(Path file) throws IOException {
        return load(file, null);
    }

    public RuntimePolicy load(Path file, DigestSink digests) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return load(json.readBounded(in, Files.size(file)), digests);
        }
    }
}
