package dev.outpost.central.events;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.central.api.JsonCodec;
import dev.outpost.central.api.Requests;
import dev.outpost.central.refusal.Refusal;

/**
 * A checked {@code POST /v1/site/events} batch: every rule of docs/upward-link.md "Store and forward" that does not
 * need the database (range, order, sizes, kinds' syntax). A batch that breaks one is refused whole with 400.
 */
public record EventBatch(long from, long through, long restoredThrough, List<Event> events) {
    /** {@link #restoredThrough} when the site did not say it was restored. */
    public static final long NOT_RESTORED = -1;

    public static final int MAX_EVENTS = 500;
    /** One event's {@code data} as stored (JSON text). */
    public static final int MAX_DATA_CHARS = 64 * 1024;
    private static final Pattern KIND = Pattern.compile("^[a-z][a-z0-9.-]{0,63}$");

    /** @param deviceId {@code data.deviceId} when it is a device id (64 lowercase hex), else null */
    public record Event(long seq, Instant at, String kind, String data, String deviceId) {
    }

    private static final Pattern DEVICE_ID = Pattern.compile("^[0-9a-f]{64}$");

    public static EventBatch parse(byte[] body) throws Refusal {
        Requests.Events b = JsonCodec.decodeNested(body, Requests.Events.class);
        JsonCodec.version(b.v());
        if (b.from() == null || b.through() == null) {
            throw Refusal.badRequest("\"from\" and \"through\" are required");
        }
        if (b.from() < 1 || b.through() < b.from()) {
            throw Refusal.badRequest("need 1 <= from <= through, got from " + b.from() + ", through " + b.through());
        }
        if (b.restoredThrough() != null && b.restoredThrough() < 0) {
            throw Refusal.badRequest("\"restoredThrough\" must not be negative");
        }
        if (b.events() == null) {
            throw Refusal.badRequest("\"events\" is missing");
        }
        if (b.events().size() > MAX_EVENTS) {
            throw Refusal.badRequest("at most " + MAX_EVENTS + " events per batch, got " + b.events().size());
        }
        List<Event> out = new ArrayList<>(b.events().size());
        long previous = b.from() - 1;
        for (int i = 0; i < b.events().size(); i++) {
            Requests.Event e = b.events().get(i);
            String where = "events[" + i + "]";
            if (e == null || e.seq() == null) {
                throw Refusal.badRequest(where + ": \"seq\" is missing");
            }
            if (e.seq() <= previous || e.seq() > b.through()) {
                throw Refusal.badRequest(where + ": seq " + e.seq() + " is not strictly increasing within [from, through]");
            }
            previous = e.seq();
            if (e.kind() == null || !KIND.matcher(e.kind()).matches()) {
                throw Refusal.badRequest(where + ": \"kind\" must match " + KIND.pattern());
            }
            Instant at;
            try {
                at = OffsetDateTime.parse(JsonCodec.required(e.at(), where + ".at")).toInstant();
            } catch (DateTimeParseException x) {
                throw Refusal.badRequest(where + ": \"at\" is not an RFC 3339 time");
            }
            JsonNode data = e.data();
            if (data == null || !data.isObject()) {
                throw Refusal.badRequest(where + ": \"data\" must be a JSON object");
            }
            String text = data.toString();
            if (text.length() > MAX_DATA_CHARS) {
                throw Refusal.badRequest(where + ": \"data\" is over " + MAX_DATA_CHARS + " characters");
            }
            String device = data.path("deviceId").isTextual() && DEVICE_ID.matcher(data.path("deviceId").asText()).matches()
                    ? data.path("deviceId").asText() : null;
            out.add(new Event(e.seq(), at, e.kind(), text, device));
        }
        return new EventBatch(b.from(), b.through(), b.restoredThrough() == null ? NOT_RESTORED : b.restoredThrough(),
                List.copyOf(out));
    }
}
