package dev.outpost.ima.policy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A DSSE envelope (secure-systems-lab/dsse): base64 payload, payload type, signatures over PAE(type, payload).
 * Base64 must be strict: padded standard alphabet, as the envelope's producer (Keylime) writes it.
 */
public record DsseEnvelope(byte[] payload, String payloadType, List<Signature> signatures) {
    public static final String KEYLIME_PAYLOAD_TYPE = "application/vnd.keylime+json";
    private static final int MAX_SIGNATURES = 16;

    public record Signature(String keyid, byte[] sig) {
    }

    public static boolean looksLikeEnvelope(JsonNode root) {
        return root.isObject() && root.has("payload");
    }

    public static DsseEnvelope fromTree(JsonNode root) {
        RuntimePolicyJson.object(root, "$");
        byte[] payload = strictBase64(RuntimePolicyJson.string(root.get("payload"), "$.payload"), "$.payload");
        String type = RuntimePolicyJson.string(root.get("payloadType"), "$.payloadType");
        JsonNode sigs = RuntimePolicyJson.array(root.get("signatures"), "$.signatures");
        if (sigs.isEmpty() || sigs.size() > MAX_SIGNATURES) {
            throw PolicyException.at("$.signatures", "must hold 1.." + MAX_SIGNATURES + " signatures");
        }
        List<Signature> out = new ArrayList<>();
        for (int i = 0; i < sigs.size(); i++) {
            String p = "$.signatures[" + i + "]";
            JsonNode s = RuntimePolicyJson.object(sigs.get(i), p);
            String keyid = s.has("keyid") && !s.get("keyid").isNull() ? RuntimePolicyJson.string(s.get("keyid"),
                    p + ".keyid") : "";
            out.add(new Signature(keyid, strictBase64(RuntimePolicyJson.string(s.get("sig"), p + ".sig"), p + ".sig")));
        }
        return new DsseEnvelope(payload, type, List.copyOf(out));
    }

    static byte[] strictBase64(String s, String path) {
        if (s.length() % 4 != 0) {
            throw PolicyException.at(path, "not strict base64 (length is not a multiple of 4: missing padding)");
        }
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw PolicyException.at(path, "not base64: " + e.getMessage());
        }
    }

    /** DSSE v1 pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body. */
    public static byte[] pae(String payloadType, byte[] payload) {
        byte[] type = payloadType.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("DSSEv1 " + type.length + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] mid = (" " + payload.length + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + type.length + mid.length + payload.length];
        int p = 0;
        System.arraycopy(head, 0, out, p, head.length);
        p += head.length;
        System.arraycopy(type, 0, out, p, type.length);
        p += type.length;
        System.arraycopy(mid, 0, out, p, mid.length);
        p += mid.length;
        System.arraycopy(payload, 0, out, p, payload.length);
        return out;
    }
}
