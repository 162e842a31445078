package dev.outpost.ima.policy;

import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The policy's "verification-keys" string: Keylime's serialised ImaKeyrings,
 * {@code {"meta":{"version":1},"keyrings":{"<name>":{"meta":{"version":1},"pubkeys":["<base64 DER SPKI>",...]}}}}.
 */
public final class VerificationKeys {
    private VerificationKeys() {
    }

    public static Map<String, List<PublicKey>> parse(String json, RuntimePolicyJson reader) {
        String base = "$.verification-keys";
        JsonNode root = reader.tree(json.getBytes(StandardCharsets.UTF_8), "verification-keys");
        RuntimePolicyJson.object(root, base);
        JsonNode rings = RuntimePolicyJson.object(root.get("keyrings"), base + ".keyrings");
        Map<String, List<PublicKey>> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = rings.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String p = base + ".keyrings[" + RuntimePolicyJson.quote(e.getKey()) + "]";
            JsonNode keys = RuntimePolicyJson.array(RuntimePolicyJson.object(e.getValue(), p).get("pubkeys"),
                    p + ".pubkeys");
            List<PublicKey> list = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                String kp = p + ".pubkeys[" + i + "]";
                try {
                    list.add(PublicKeys.fromSpki(Base64.getDecoder().decode(RuntimePolicyJson.string(keys.get(i), kp))));
                } catch (IllegalArgumentException | PolicyException ex) {
                    throw PolicyException.at(kp, "not a base64 DER public key: " + ex.getMessage());
                }
            }
            out.put(e.getKey(), list);
        }
        return out;
    }

    /** The JSON string for a policy that trusts these keys for ima-sig on the .ima keyring. */
    public static String serialize(Map<String, List<PublicKey>> rings) {
        StringBuilder sb = new StringBuilder("{\"meta\": {\"version\": 1}, \"keyrings\": {");
        boolean first = true;
        for (Map.Entry<String, List<PublicKey>> e : rings.entrySet()) {
            sb.append(first ? "" : ", ").append(RuntimePolicyJson.quote(e.getKey()))
                    .append(": {\"meta\": {\"version\": 1}, \"pubkeys\": [");
            for (int i = 0; i < e.getValue().size(); i++) {
                sb.append(i == 0 ? "\"" : ", \"")
                        .append(Base64.getEncoder().encodeToString(e.getValue().get(i).getEncoded())).append('"');
            }
            sb.append("]}");
            first = false;
        }
        return sb.append("}}").toString();
    }
}
