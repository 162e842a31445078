package dev.outpost.mqtt.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The envelope of every reply: {@code {"v":1,"ok":true,"body":{...}}} or
 * {@code {"v":1,"ok":false,"error":"CODE","message":"why"}}.
 */
public record Response(int v, boolean ok, ErrorCode error, String message, JsonNode body) implements Messages {
}
