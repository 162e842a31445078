package dev.outpost.appliance.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.appliance.admin.AdminHarness.Reply;
import dev.outpost.appliance.store.DeviceState;

/**
 * Bad input to the admin API, over the real socket of a real appliance: every refusal is a 4xx in JSON that says
 * what was wrong, never a 500 and never a stack trace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminApiTest {
    static final String DEV1 = AdminHarness.deviceId(1);
    static final String FAILED = AdminHarness.deviceId(2);
    static final String REVOKED = AdminHarness.deviceId(3);
    static final String UNKNOWN = AdminHarness.deviceId(99);

    AdminHarness h;
    final List<Reply> replies = new ArrayList<>();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        h = new AdminHarness(dir)
                .seedDevice(1, DeviceState.ENROLLED, null)
                .seedDevice(2, DeviceState.FAILED, "quote.PCR_DIGEST: the PCR values do not hash to the quoted digest\n"
                        + "ima-sig: /usr/bin/evil (entry 12): not in the runtime policy")
                .seedDevice(3, DeviceState.REVOKED, "stolen from the plant floor")
                .start();
    }

    @AfterAll
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    /** A refusal with this status whose reason contains {@code why}; JSON, no stack trace. */
    private Reply refused(Reply r, int status, String why) throws Exception {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/json");
        assertThat(r.error()).contains(why);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("at dev.outpost");
        return r;
    }

    @Test
    void labelsAreCheckedAndOnlyForKnownDevices() throws Exception {
        String path = "/v1/devices/" + DEV1 + "/labels";
        for (String bad : new String[] {"\"bad label\"", "\"a/b\"", "\"\"", "\"-lead\"", "\"" + "x".repeat(65) + "\"",
                "\"caf\u00e9\"", "\"x\\ny\""}) {
            refused(h.post(path, "{\"label\": " + bad + "}"), 400, "label must be 1-64 letters, digits, '.', '_' or '-'");
        }
        refused(h.post(path, "{\"label\": 5}"), 400, "label must be a string");
        refused(h.post(path, "{}"), 400, "label is required");
        refused(h.post("/v1/devices/" + UNKNOWN + "/labels", "{\"label\": \"line-1\"}"), 404, "no device " + UNKNOWN);
        refused(h.post("/v1/devices/nope/labels", "{\"label\": \"line-1\"}"), 400, "'nope' is not a device id");
        Reply ok = h.post(path, "{\"label\": \"line-1.b_2\"}");
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
    }

    @Test
    void assigningAnUnknownPolicyOrABadTargetIsRefused() throws Exception {
        refused(h.post("/v1/policies/nosuch/assign", "{\"label\": \"line-1\"}"), 404, "no policy nosuch");
        refused(h.post("/v1/policies/nosuch/assign", "{\"device\": \"" + DEV1 + "\", \"label\": \"x\"}"), 400,
                "exactly one of");
        refused(h.post("/v1/policies/nosuch/assign", "{}"), 400, "exactly one of");
        refused(h.post("/v1/policies/nosuch/assign", "{\"label\": \"no way\"}"), 400, "label must be 1-64");
        refused(h.post("/v1/policies/nosuch/assign", "{\"label\": [\"a\"]}"), 400, "label must be a string");
        refused(h.post("/v1/policies/nosuch/assign", "{\"device\": \"ABC\"}"), 400, "device must be a device id");
    }

    @Test
    void bodiesMustBeJsonObjects() throws Exception {
        refused(h.send("POST", "/v1/allow", "application/x-www-form-urlencoded", "ekHash=" + DEV1), 400,
                "Content-Type: application/json, got 'application/x-www-form-urlencoded'");
        refused(h.send("POST", "/v1/allow", "text/plain", "{\"ekHash\": \"" + DEV1 + "\"}"), 400,
                "got 'text/plain'");
        refused(h.send("POST", "/v1/allow", null, "{\"ekHash\": \"" + DEV1 + "\"}"), 400, "got no Content-Type");
        Path uploads = Path.of("file-uploads").toAbsolutePath();
        boolean uploadsBefore = java.nio.file.Files.exists(uploads);
        refused(h.send("POST", "/v1/allow", "multipart/form-data; boundary=XX",
                "--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhello\r\n--XX--\r\n"),
                400, "Content-Type: application/json");
        // Vert.x's BodyHandler by default makes file-uploads/ in the working directory for an upload.
        assertThat(java.nio.file.Files.exists(uploads)).as("nothing written to the working directory " + uploads)
                .isEqualTo(uploadsBefore);
        refused(h.post("/v1/allow", "{\"ekHash\": "), 400, "body is not valid JSON");
        refused(h.post("/v1/allow", "[1, 2]"), 400, "body must be a JSON object");
        refused(h.post("/v1/allow", "\"" + DEV1 + "\""), 400, "body must be a JSON object");
        refused(h.post("/v1/allow", "{\"ekHash\": 12}"), 400, "ekHash must be a string");
        refused(h.post("/v1/allow", "{\"ekHash\": \"" + "AB".repeat(32) + "\"}"), 400, "ekHash must be 64 lowercase hex");
        refused(h.post("/v1/allow", "{\"ekHash\": \"" + DEV1 + "\", \"note\": \"" + "n".repeat(1025) + "\"}"), 400,
                "note must be 1..1024 characters");
        refused(h.post("/v1/policies/p1?kind=runtime", "not json"), 400, "not a valid runtime policy");
        refused(h.send("POST", "/v1/policies/p1?kind=runtime", "application/x-www-form-urlencoded", "a=b"), 400,
                "Content-Type: application/json");
        refused(h.post("/v1/policies/p1?kind=firmware", "{}"), 400, "kind must be runtime or boot");
        refused(h.post("/v1/allow", "{\"ekHash\": \"" + "a".repeat(70_000) + "\"}"), 413, "body too large");
        Reply ok = h.post("/v1/allow", "{\"ekHash\": \"" + DEV1 + "\", \"note\": \"bench unit 7\"}");
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
    }

    @Test
    void auditQueryParametersAreChecked() throws Exception {
        for (String bad : new String[] {"abc", "-1", "0", "1001", "99999999999", "1e3", "", "%20"}) {
            refused(h.get("/v1/audit?limit=" + bad), 400, "limit must be a whole number 1..1000");
        }
        refused(h.get("/v1/audit?device=xyz"), 400, "device must be a device id");
        refused(h.get("/v1/audit?limit=%zz"), 400, "decoding");
        Reply ok = h.get("/v1/audit?limit=5&device=" + DEV1);
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.json().isArray()).isTrue();
    }

    @Test
    void formatsRoutesAndMethodsAreChecked() throws Exception {
        refused(h.get("/v1/bundle?format=der"), 400, "format must be pem or spiffe, got 'der'");
        refused(h.get("/v1/nothing"), 404, "no such resource: GET /v1/nothing");
        refused(h.send("DELETE", "/v1/devices", null, null), 405, "DELETE is not allowed on /v1/devices");
        refused(h.get("/v1/devices/" + UNKNOWN), 404, "no device " + UNKNOWN);
        refused(h.get("/v1/devices/" + DEV1.substring(1)), 400, "is not a device id");
        refused(h.get("/v1/policies/nosuch"), 404, "no policy nosuch");
        assertThat(h.get("/v1/bundle?format=spiffe").status()).isEqualTo(200);
    }

    @Test
    void revocationReasonsAreCheckedAndARevokedDeviceSaysSo() throws Exception {
        refused(h.post("/v1/devices/" + DEV1 + "/revoke", "{\"reason\": 7}"), 400, "reason must be a string");
        refused(h.post("/v1/devices/" + DEV1 + "/revoke", "{\"reason\": \"  \"}"), 400, "reason must be 1..1024");
        refused(h.post("/v1/devices/" + UNKNOWN + "/revoke", "{}"), 404, "no device " + UNKNOWN);
        refused(h.post("/v1/devices/" + REVOKED + "/revoke", "{}"), 409,
                "is already revoked (since ");
        refused(h.post("/v1/devices/" + REVOKED + "/clear", "{}"), 400, "a revoked device stays revoked");
    }

    @Test
    void deviceViewSaysWhyADeviceFailedOrWasRevoked() throws Exception {
        JsonNode failed = h.get("/v1/devices/" + FAILED).json();
        assertThat(failed.path("state").asText()).isEqualTo("failed");
        assertThat(failed.path("lastVerdict").asText()).isEqualTo("fail");
        assertThat(failed.path("lastReasons")).extracting(JsonNode::asText).containsExactly(
                "quote.PCR_DIGEST: the PCR values do not hash to the quoted digest",
                "ima-sig: /usr/bin/evil (entry 12): not in the runtime policy");
        JsonNode revoked = h.get("/v1/devices/" + REVOKED).json();
        assertThat(revoked.path("state").asText()).isEqualTo("revoked");
        assertThat(revoked.path("revokeReason").asText()).isEqualTo("stolen from the plant floor");
        assertThat(h.get("/v1/devices/" + DEV1).json().path("lastReasons").isEmpty()).isTrue();
    }
}
