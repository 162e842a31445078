package dev.outpost.ima.policy;

import java.util.List;

import dev.outpost.tpm.HashAlg;

/**
 * The policy's {@code ima} object. Keylime's schema allows only null for dm_policy, so device-mapper policies are
 * not modelled.
 *
 * @param ignoredKeyrings keyrings whose ima-buf keys are not checked nor learned; "*" ignores all
 * @param logHashAlg      template-hash algorithm of the list the policy expects
 */
public record ImaSettings(List<String> ignoredKeyrings, HashAlg logHashAlg) {
    public static final ImaSettings DEFAULT = new ImaSettings(List.of(), HashAlg.SHA1);

    public ImaSettings {
        ignoredKeyrings = List.copyOf(ignoredKeyrings);
    }
}
