package dev.outpost.mqtt.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

class CodecTest {
    private final Codec codec = new Codec();

    @Test
    void requestsRoundTrip() throws Exception {
        EnrollRequest r = new EnrollRequest(1, "AAEC", null, "AwQF");
        Object back = codec.decodeRequest(Kind.ENROLL, codec.encode(r));
        assertThat(back).isEqualTo(r);
    }

    @Test
    void theNodeKeyCertificationIsOptionalBothWays() throws Exception {
        Codec codec = new Codec();
        // A software node key: nothing of the certification on the wire, so an appliance that predates it reads it.
        String plain = new String(codec.encode(new ActivateRequest(1, "AA==", "AQ==")), StandardCharsets.UTF_8);
        assertThat(plain).doesNotContain("nodeKeyPublic", "certifyInfo", "certifySignature");
        // A message from an agent that predates the fields decodes with them null; unknown fields stay refused.
        assertThat(codec.decodeRequest(Kind.ACTIVATE, "{\"v\":1,\"secret\":\"AA==\",\"csr\":\"AQ==\"}".getBytes()))
                .isEqualTo(new ActivateRequest(1, "AA==", "AQ=="));
        assertThatThrownBy(() -> codec.decodeRequest(Kind.CSR, "{\"v\":1,\"csr\":\"AA==\",\"x\":1}".getBytes()))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> codec.decodeRequest(Kind.ACTIVATE, "{\"v\":1,\"secret\":\"AA==\"}".getBytes()))
                .isInstanceOf(ProtocolException.class);
        EvidenceRequest e = new EvidenceRequest(1, "Tg==", 0, false, null, null, "YQ==", "cw==", "cA==", "Yw==",
                "cHVi", "aW5mbw==", "c2ln");
        assertThat(codec.decodeRequest(Kind.EVIDENCE, codec.encode(e))).isEqualTo(e);
        ResumeRequest r = new ResumeRequest(1, "Tg==", "YQ==", "cw==", "cA==", "Yw==", "cHVi", "aW5mbw==", "c2ln");
        assertThat(codec.decodeRequest(Kind.RESUME, codec.encode(r))).isEqualTo(r);
    }

    @Test
    void aReplyFromAnApplianceThatPredatesAnOptionalFieldStillDecodes() throws Exception {
        // A verdict without entriesRevision (an appliance before workload entries) reads as null, not as an error.
        Verdict old = new Verdict(1, "trusted", java.util.List.of(), 5, null);
        String wire = new String(codec.ok(old), StandardCharsets.UTF_8);
        assertThat(wire).doesNotContain("entriesRevision");
        assertThat(codec.body(codec.decodeResponse(wire.getBytes(StandardCharsets.UTF_8)), Verdict.class)).isEqualTo(old);
        Verdict now = new Verdict(1, "trusted", java.util.List.of(), 5, null, 7L);
        assertThat(codec.body(codec.decodeResponse(codec.ok(now)), Verdict.class).entriesRevision()).isEqualTo(7L);
        // The same for a retained site bundle without JWT authorities.
        SiteBundle b = SiteBundle.of("site.example", 3, "PEM");
        assertThat(new String(codec.encode(b), StandardCharsets.UTF_8)).doesNotContain("jwtAuthorities");
        assertThat(codec.decode(codec.encode(b), SiteBundle.class)).isEqualTo(b);
    }

    @Test
    void repliesCarryBodyOrError() throws Exception {
        byte[] wire = codec.ok(new DeviceStatus(1, "ab", "enrolled", null, 0));
        // the envelope's fields in this order, the body's as its record declares them (agents of every version read it)
        assertThat(new String(wire, StandardCharsets.UTF_8)).isEqualTo("{\"v\":1,\"ok\":true,\"body\":{\"v\":1,"
                + "\"deviceId\":\"ab\",\"state\":\"enrolled\",\"spiffeId\":null,\"svidExpiresAt\":0}}");
        Response ok = codec.decodeResponse(wire);
        assertThat(codec.body(ok, DeviceStatus.class).deviceId()).isEqualTo("ab");
        Response err = codec.decodeResponse(codec.error(ErrorCode.NOT_TRUSTED, "EK not allowed"));
        assertThat(err.ok()).isFalse();
        assertThat(err.error()).isEqualTo(ErrorCode.NOT_TRUSTED);
        assertThatThrownBy(() -> codec.body(err, DeviceStatus.class)).isInstanceOf(ProtocolException.class)
                .hasMessage("EK not allowed");
    }

    @Test
    void aReplyWithoutAnOptionalFieldDecodes() throws Exception {
        // The appliance leaves a null entriesRevision out of a verdict (NON_NULL): the agent reads it as null.
        Verdict v = new Verdict(1, "trusted", java.util.List.of(), 5, null);
        byte[] wire = codec.ok(v);
        assertThat(new String(wire, StandardCharsets.UTF_8)).doesNotContain("entriesRevision");
        assertThat(codec.body(codec.decodeResponse(wire), Verdict.class)).isEqualTo(v);
        Verdict with = new Verdict(1, "trusted", java.util.List.of(), 5, null, 7L);
        assertThat(codec.body(codec.decodeResponse(codec.ok(with)), Verdict.class)).isEqualTo(with);
        // A required field missing from a reply is still refused.
        assertThatThrownBy(() -> codec.body(codec.decodeResponse(
                "{\"v\":1,\"ok\":true,\"body\":{\"v\":1,\"state\":\"trusted\"}}".getBytes(StandardCharsets.UTF_8)),
                Verdict.class)).isInstanceOf(ProtocolException.class);
    }

    @Test
    void badInputGetsTheRightCode() {
        assertThat(code("{\"v\":2,\"secret\":\"AA==\"}")).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
        assertThat(code("{\"secret\":\"AA==\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(code("{\"v\":1,\"secret\":\"AA==\",\"extra\":1}")).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(code("{\"v\":1}")).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(code("[1,2]")).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(code("{\"v\":1,\"secret\":\"AA==\"} trailing")).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(code("{".repeat(100))).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(code("{\"v\":1,\"secret\":\"" + "A".repeat(60_000) + "\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(code("x".repeat(70_000))).isEqualTo(ErrorCode.TOO_LARGE);
        byte[] junk = new byte[4096];
        Random rnd = new Random(1);
        for (int i = 0; i < 500; i++) {
            rnd.nextBytes(junk);
            try {
                codec.decodeRequest(Kind.ACTIVATE, junk);
            } catch (ProtocolException e) {
                assertThat(e.getMessage()).doesNotContain("\n");
            }
        }
    }

    @Test
    void errorsSpeakOfFieldsAndJsonTypesNeverOfJavaInternals() {
        assertThat(message(Kind.ACTIVATE, "{\"v\":1,\"secret\":{\"a\":1},\"csr\":\"AA==\"}"))
                .isEqualTo("field 'secret' should be a string");
        assertThat(message(Kind.ACTIVATE, "{\"v\":1,\"secret\":\"AA==\",\"csr\":\"AA==\",\"extra\":1}"))
                .isEqualTo("unknown field 'extra'");
        assertThat(message(Kind.ACTIVATE, "{\"v\":1,\"secret\":\"AA==\"}")).isEqualTo("field 'csr' is missing");
        assertThat(message(Kind.EVIDENCE, "{\"v\":1,\"nonce\":\"AA==\",\"part\":\"x\",\"more\":false}"))
                .isEqualTo("field 'part' should be a whole number");
        assertThat(message(Kind.EVIDENCE, "{\"v\":1,\"nonce\":\"AA==\",\"part\":null,\"more\":false}"))
                .isEqualTo("field 'part' may not be null");
        assertThat(message(Kind.ACTIVATE, "{\"v\":1,\"secret\":")).startsWith("not JSON (line 1");
        assertThat(message(Kind.ACTIVATE, "{\"v\":1,\"secret\":\"" + "A".repeat(60_000) + "\"}")).startsWith("over a limit");
        String[] hostile = {"{\"v\":1,\"secret\":[1,2]}", "{\"v\":1,\"secret\":true,\"csr\":3}",
            "{\"v\":1,\"nonce\":[],\"part\":{},\"more\":\"no\"}", "{\"v\":1,\"\u0000\":1}"};
        for (String h : hostile) {
            for (Kind k : new Kind[] {Kind.ACTIVATE, Kind.EVIDENCE, Kind.ENROLL}) {
                String m = message(k, h);
                assertThat(m).doesNotContain("com.fasterxml", "java.", "dev.outpost", "JsonNode", "Request", "\u0000");
            }
        }
    }

    private String message(Kind kind, String json) {
        try {
            codec.decodeRequest(kind, json.getBytes(StandardCharsets.UTF_8));
            throw new AssertionError("accepted: " + json);
        } catch (ProtocolException e) {
            return e.getMessage();
        }
    }

    @Test
    void aRetryHintTravelsWithTheErrorAndAnInsaneOneIsIgnored() throws Exception {
        Response busy = codec.decodeResponse(codec.error(ErrorCode.RATE_LIMITED, "busy", 7_500));
        assertThat(busy.retryAfterMs()).isEqualTo(7_500);
        assertThatThrownBy(() -> codec.body(busy, DeviceStatus.class)).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.retryAfterMs()).isEqualTo(7_500));
        assertThat(codec.decodeResponse(codec.error(ErrorCode.NOT_TRUSTED, "no")).retryAfterMs()).isZero();
        for (String hostile : new String[] {"-5", "1e30", "\"soon\"", "999999999999"}) {
            byte[] reply = ("{\"v\":1,\"ok\":false,\"error\":\"RATE_LIMITED\",\"message\":\"m\",\"retryAfter\":"
                    + hostile + "}").getBytes(StandardCharsets.UTF_8);
            assertThat(codec.decodeResponse(reply).retryAfterMs()).as(hostile).isZero();
        }
    }

    @Test
    void base64FieldsAreCheckedAndBounded() {
        assertThatThrownBy(() -> Codec.base64("!!", "secret", 64)).hasMessage("secret: not base64");
        assertThatThrownBy(() -> Codec.base64("A".repeat(200), "secret", 64)).hasMessageContaining("over 64 bytes");
    }

    @Test
    void topicsParseOnlyRequestTopics() {
        Topics t = new Topics();
        String id = "a".repeat(64);
        assertThat(t.parseRequest(t.request(id, Kind.CSR))).contains(new Topics.RequestTopic(id, Kind.CSR));
        assertThat(t.parseRequest(t.response(id))).isEmpty();
        assertThat(t.parseRequest("outpost/v1/dev/" + id + "/req/bogus")).isEmpty();
        assertThat(t.parseRequest("outpost/v1/dev/x/y/req/csr")).isEmpty();
        assertThatThrownBy(() -> new Topics("a/#")).isInstanceOf(IllegalArgumentException.class);
    }

    private ErrorCode code(String json) {
        try {
            codec.decodeRequest(Kind.ACTIVATE, json.getBytes(StandardCharsets.UTF_8));
            return null;
        } catch (ProtocolException e) {
            return e.code();
        }
    }
}
