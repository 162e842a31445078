package dev.outpost.appliance.outbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.appliance.upstream.UpstreamException;

/**
 * The wire form of {@code POST /v1/site/events} (docs/upward-link.md "Store and forward"): the batch the site sends
 * and central's answer, read strictly (an answer we do not understand marks nothing sent).
 */
final class EventsExchange {
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(4).maxNumberLength(19).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    /**
     * Central's answer: 200 (acknowledged through) or 409: a gap (it holds through, resend after), or with
     * {@code divergedAt} (0: none) the first of our events that is not the one central holds under that seq.
     */
    record Answer(int status, long ackedThrough, long divergedAt) {
    }

    private EventsExchange() {
    }

    /**
     * {@code from}: the first seq central does not hold yet; the batch covers [from, last row's seq].
     * {@code restoredThrough}: where the backup this database was restored from ended (-1: not restored, or settled).
     */
    static String batch(long from, List<OutboxStore.Row> rows, long restoredThrough) throws IOException {
        ObjectNode b = JSON.createObjectNode();
        b.put("v", 1);
        b.put("from", from);
        b.put("through", rows.get(rows.size() - 1).seq());
        if (restoredThrough >= 0) {
            b.put("restoredThrough", restoredThrough);
        }
        ArrayNode events = b.putArray("events");
        for (OutboxStore.Row r : rows) {
            ObjectNode e = events.addObject();
            e.put("seq", r.seq());
            e.put("at", r.createdAt().toString());
            e.put("kind", r.kind());
            e.set("data", JSON.readTree(r.payload()));
        }
        return JSON.writeValueAsString(b);
    }

    static Answer answer(int status, byte[] body) throws UpstreamException {
        if (status != 200 && status != 409) {
            throw new UpstreamException(status, null, "central refused the events (" + status + " "
                    + new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).replaceAll("[^\\x20-\\x7e]", "?") + ")");
        }
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException e) {
            throw new UpstreamException(0, null, "central's events answer is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject() || n.path("v").asInt(-1) != 1 || !n.path("ackedThrough").isIntegralNumber()
                || n.path("ackedThrough").asLong() < 0) {
            throw new UpstreamException(0, null, "central's events answer (" + status + ") has no valid ackedThrough");
        }
        long acked = n.path("ackedThrough").asLong();
        long diverged = 0;
        if (n.has("divergedAt")) {
            JsonNode d = n.path("divergedAt");
            if (status != 409 || !d.isIntegralNumber() || d.asLong() < 1 || d.asLong() > acked) {
                throw new UpstreamException(0, null, "central's events answer (" + status + ") has an invalid divergedAt");
            }
            diverged = d.asLong();
        }
        return new Answer(status, acked, diverged);
    }
}
