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
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The policy's "verification-keys" string: Keylime's serialised ImaKeyrings, a JSON object mapping keyring names to
 * a JSON <em>string</em> (Keylime double-encodes) of {@code {"pubkeys": ["<base64 DER SPKI>", ...], "keyids": [n, ...]}}.
 * {@code keyids} carries each key's IMA v2 key id when it came from a certificate's SubjectKeyIdentifier; without it
 * the id is computed from the key. Unlike Keylime, which logs and skips a key it cannot load, a bad key refuses the
 * whole policy: a silently missing key would only surface as unexplained signature failures.
 */
public final class VerificationKeys {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private VerificationKeys() {
    }

    /** A trusted key and its key id, null when it is to be computed from the key. */
    public record Key(PublicKey key, Integer keyId) {
    }

    public static Map<String, List<Key>> parse(String json, RuntimePolicyJson reader) {
        String base = "$.verification-keys";
        JsonNode root = reader.tree(json.getBytes(StandardCharsets.UTF_8), "verification-keys");
        if (root.isTextual()) {
            root = reader.tree(root.textValue().getBytes(StandardCharsets.UTF_8), "verification-keys");
        }
        RuntimePolicyJson.object(root, base);
        Map<String, List<Key>> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String p = base + "[" + RuntimePolicyJson.quote(e.getKey()) + "]";
            JsonNode ring = e.getValue();
            if (ring.isTextual()) {
                ring = reader.tree(ring.textValue().getBytes(StandardCharsets.UTF_8), "keyring " + e.getKey());
            }
            RuntimePolicyJson.object(ring, p);
            JsonNode keys = RuntimePolicyJson.array(ring.get("pubkeys"), p + ".pubkeys");
            JsonNode ids = ring.has("keyids") ? RuntimePolicyJson.array(ring.get("keyids"), p + ".keyids") : null;
            List<Key> list = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                String kp = p + ".pubkeys[" + i + "]";
                PublicKey k;
                try {
                    k = PublicKeys.fromSpki(Base64.getDecoder().decode(RuntimePolicyJson.string(keys.get(i), kp)));
                } catch (IllegalArgumentException | PolicyException ex) {
                    throw PolicyException.at(kp, "not a base64 DER public key: " + ex.getMessage());
                }
                Integer id = null;
                if (ids != null && i < ids.size()) {
                    JsonNode n = ids.get(i);
                    if (!n.isIntegralNumber() || n.asLong() < 0 || n.asLong() > 0xffffffffL) {
                        throw PolicyException.at(p + ".keyids[" + i + "]", "must be a 32-bit unsigned integer");
                    }
                    id = (int) n.asLong();
                }
                list.add(new Key(k, id));
            }
            out.put(e.getKey(), list);
        }
        return out;
    }

    /** Keylime's format for the given keyrings; key ids are left for the verifier to compute from the keys. */
    public static String serialize(Map<String, List<PublicKey>> rings) {
        ObjectNode root = MAPPER.createObjectNode();
        rings.forEach((name, keys) -> {
            ObjectNode ring = MAPPER.createObjectNode();
            var arr = ring.putArray("pubkeys");
            keys.forEach(k -> arr.add(Base64.getEncoder().encodeToString(k.getEncoded())));
            root.put(name, ring.toString());
        });
        return root.toString();
    }
}
