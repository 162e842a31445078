package dev.outpost.mqtt.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The envelope of every reply: {@code {"v":1,"ok":true,"body":{...}}} or
 * {@code {"v":1,"ok":false,"error":"CODE","message":"why"}}, with {@code "retryAfter": ms} when the appliance
 * asks the device to come back later (load, rate limits).
 */
public record Response(int v, boolean ok, ErrorCode error, String message, JsonNode body, long retryAfterMs)
        implements Messages {
}
