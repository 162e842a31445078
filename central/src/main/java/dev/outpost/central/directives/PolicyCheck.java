package dev.outpost.central.directives;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import dev.outpost.ima.boot.BootPolicyJson;
import dev.outpost.ima.policy.PolicyLoader;

/**
 * A pushed policy is read by the sites' own loaders before it is stored: one that a verifier cannot read would fail
 * every device it is assigned to, on every site. It must also be UTF-8, since it travels as a JSON string.
 */
final class PolicyCheck {
    private PolicyCheck() {
    }

    static void check(String kind, byte[] content) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(content));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the policy is not UTF-8 text");
        }
        try {
            if ("runtime".equals(kind)) {
                PolicyLoader.unsigned().load(content);
            } else {
                new BootPolicyJson().read(content);
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a valid " + kind + " policy: " + e.getMessage());
        }
    }
}
