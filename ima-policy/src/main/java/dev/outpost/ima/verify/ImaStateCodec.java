package dev.outpost.ima.verify;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.ima.list.Hex;
import dev.outpost.tpm.HashAlg;

/** A small JSON form of {@link ImaState} for the appliance's store. A state that does not decode is not used. */
public final class ImaStateCodec {
    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8)
                    .maxDocumentLength(4L << 20).build())
            .build());

    private ImaStateCodec() {
    }

    public static byte[] encode(ImaState s) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("v", 1);
        o.put("bootId", s.bootId());
        o.put("bank", s.bank().tpmName());
        o.put("nextIndex", s.nextIndex());
        o.put("pcr", Hex.encode(s.pcr()));
        o.put("paddedPcr", Hex.encode(s.paddedPcr()));
        o.put("violations", s.violations());
        ArrayNode keys = o.putArray("learnedKeys");
        for (byte[] k : s.learnedKeys()) {
            keys.add(Base64.getEncoder().encodeToString(k));
        }
        try {
            return MAPPER.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ImaState decode(byte[] json) {
        try {
            JsonNode o = MAPPER.readTree(json);
            if (o == null || o.path("v").asInt() != 1) {
                throw new IllegalArgumentException("unknown IMA state version");
            }
            HashAlg bank = HashAlg.fromName(o.path("bank").asText()).orElseThrow(
                    () -> new IllegalArgumentException("unknown bank"));
            List<byte[]> keys = new ArrayList<>();
            for (JsonNode k : o.path("learnedKeys")) {
                keys.add(Base64.getDecoder().decode(k.asText()));
            }
            byte[] pcr = Hex.decodeOrNull(o.path("pcr").asText());
            byte[] padded = Hex.decodeOrNull(o.path("paddedPcr").asText());
            if (pcr == null || padded == null || !o.path("bootId").isTextual()) {
                throw new IllegalArgumentException("malformed PCR or boot id");
            }
            // States stored before the count existed have none: their count starts from 0 at the next pass. It is
            // a figure for operators, never a reason to pass or fail, so this costs no safety.
            JsonNode v = o.path("violations");
            if (!v.isMissingNode() && !v.canConvertToExactIntegral()) {
                throw new IllegalArgumentException("violations is not an integer");
            }
            return new ImaState(o.get("bootId").asText(), bank, o.path("nextIndex").asLong(-1), pcr, padded, keys,
                    v.isMissingNode() ? 0 : v.asLong(-1));
        } catch (IOException e) {
            throw new IllegalArgumentException("IMA state is not valid JSON", e);
        }
    }
}
