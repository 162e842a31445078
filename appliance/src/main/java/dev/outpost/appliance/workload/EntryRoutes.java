package dev.outpost.appliance.workload;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The admin API's registration entry routes ({@code /v1/entries}), added to the admin router after its body handler.
 * JSON in and out; refusals are 400 with the field and the reason, an unknown id 404.
 */
public final class EntryRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(EntryRoutes.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final int MAX_LIST = 64;

    private final Vertx vertx;
    private final EntryAdmin entries;

    public EntryRoutes(Vertx vertx, EntryAdmin entries) {
        this.vertx = vertx;
        this.entries = entries;
    }

    public void register(Router r) {
        r.get("/v1/entries").handler(ctx -> reply(ctx, 200, () -> Map.of("revision", entries.revision(),
                "entries", entries.list().stream().map(EntryRoutes::view).toList())));
        r.get("/v1/entries/:id").handler(ctx -> reply(ctx, 200, () -> view(entries.find(id(ctx))
                .orElseThrow(() -> new Missing("no entry " + ctx.pathParam("id"))))));
        r.post("/v1/entries").handler(ctx -> reply(ctx, 201, () -> view(entries.create(spec(body(ctx))))));
        r.delete("/v1/entries/:id").handler(ctx -> reply(ctx, 200, () -> {
            String id = id(ctx);
            if (!entries.delete(id)) {
                throw new Missing("no entry " + id);
            }
            return Map.of("deleted", id, "revision", entries.revision());
        }));
    }

    static Map<String, Object> view(Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("spiffeId", e.spiffeId());
        m.put("parents", e.parents());
        m.put("selectors", e.selectors());
        m.put("ttlSeconds", e.x509Ttl().toSeconds());
        m.put("jwtTtlSeconds", e.jwtTtl().toSeconds());
        m.put("federatesWith", e.federatesWith());
        m.put("dnsNames", e.dnsNames());
        m.put("createdAt", e.createdAt().toString());
        return m;
    }

    private static String id(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        if (id == null || !UUID.matcher(id).matches()) {
            throw new IllegalArgumentException("an entry id is a lowercase UUID, got " + EntryRules.show(String.valueOf(id)));
        }
        return id;
    }

    private static JsonNode body(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type == null || !type.split(";", 2)[0].trim().equalsIgnoreCase("application/json")) {
            throw new IllegalArgumentException("send the entry as JSON with Content-Type: application/json");
        }
        try {
            JsonNode n = JSON.readTree(ctx.body() == null || ctx.body().buffer() == null ? new byte[0]
                    : ctx.body().buffer().getBytes());
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException("body must be a JSON object");
            }
            return n;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("body is not valid JSON");
        }
    }

    static EntryRules.Spec spec(JsonNode b) {
        JsonNode id = b.get("spiffeId");
        if (id == null || !id.isTextual()) {
            throw new IllegalArgumentException("spiffeId is required (a string)");
        }
        return new EntryRules.Spec(id.asText(), strings(b, "parents"), strings(b, "selectors"),
                seconds(b, "ttlSeconds"), seconds(b, "jwtTtlSeconds"), strings(b, "federatesWith"),
                strings(b, "dnsNames"));
    }

    private static List<String> strings(JsonNode b, String field) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray() || v.size() > MAX_LIST) {
            throw new IllegalArgumentException(field + " must be an array of at most " + MAX_LIST + " strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual()) {
                throw new IllegalArgumentException(field + " must hold strings only");
            }
            out.add(s.asText());
        }
        return out;
    }

    private static Duration seconds(JsonNode b, String field) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() <= 0) {
            throw new IllegalArgumentException(field + " must be a positive whole number of seconds");
        }
        return Duration.ofSeconds(v.asLong());
    }

    private void reply(RoutingContext ctx, int status, Callable<Object> work) {
        vertx.executeBlocking(work, false).onComplete(ar -> {
            int code = status;
            byte[] out;
            try {
                if (ar.succeeded()) {
                    out = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(ar.result());
                } else if (ar.cause() instanceof Missing m) {
                    code = 404;
                    out = JSON.createObjectNode().put("error", m.getMessage()).toString().getBytes();
                } else if (ar.cause() instanceof IllegalArgumentException e) {
                    code = 400;
                    out = JSON.createObjectNode().put("error", e.getMessage()).toString().getBytes();
                } else {
                    LOG.error("admin API {} {} failed", ctx.request().method(), ctx.request().path(), ar.cause());
                    code = 500;
                    out = "{\"error\":\"internal error (see the appliance log)\"}".getBytes();
                }
            } catch (Exception e) {
                code = 500;
                out = "{\"error\":\"internal error (see the appliance log)\"}".getBytes();
            }
            if (!ctx.response().ended()) {
                ctx.response().setStatusCode(code).putHeader("Content-Type", "application/json").end(Buffer.buffer(out));
            }
        });
    }

    private static final class Missing extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Missing(String m) {
            super(m, null, false, false);
        }
    }
}
