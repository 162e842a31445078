package dev.outpost.appliance.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.tpm.keys.DeviceId;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;

/**
 * What every admin route shares: work on a worker and a JSON reply, errors that say why (never a stack trace), and
 * the checks of what a request brings (a JSON body, its fields, a device id, a label).
 */
final class AdminHttp {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final Vertx vertx;

    AdminHttp(Vertx vertx) {
        this.vertx = vertx;
    }

    Vertx vertx() {
        return vertx;
    }

    /** Runs {@code work} on a worker and answers with its result as JSON, or with the error. */
    void reply(RoutingContext ctx, Callable<Object> work) {
        vertx.executeBlocking(work, false).onComplete(ar -> {
            if (ar.failed()) {
                error(ctx, ar.cause());
                return;
            }
            try {
                ctx.response().putHeader("Content-Type", "application/json")
                        .end(Buffer.buffer(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(ar.result())));
            } catch (Exception e) {
                error(ctx, e);
            }
        });
    }

    /** Makes a file on a worker, sends it with its length, then deletes it (a backup, an audit export). */
    void sendMadeFile(RoutingContext ctx, Callable<Path> make, String contentType) {
        vertx.executeBlocking(make, false).onComplete(ar -> {
            if (ar.failed()) {
                error(ctx, ar.cause());
                return;
            }
            Path file = ar.result();
            ctx.response().putHeader("Content-Type", contentType).sendFile(file.toString())
                    .onComplete(sent -> vertx.executeBlocking(() -> Files.deleteIfExists(file), false));
        });
    }

    static void error(RoutingContext ctx, Throwable t) {
        // Vert.x reports undecodable query strings and the like as an HttpException with a 4xx status.
        int status = t instanceof ApiError e ? e.status
                : t instanceof HttpException h && h.getStatusCode() >= 400 && h.getStatusCode() < 500
                        ? h.getStatusCode() : 500;
        String message = status == 500 ? "internal error (see the appliance log)"
                : t instanceof HttpException h ? describe(h) : t.getMessage();
        if (status == 500) {
            LOG.error("admin API {} {} failed", ctx.request().method(), ctx.request().path(), t);
        }
        if (ctx.response().ended()) {
            return;
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(JSON.createObjectNode().put("error", message).toString());
    }

    private static String describe(HttpException h) {
        String what = h.getPayload() != null ? h.getPayload() : h.getMessage();
        return h.getCause() != null && h.getCause().getMessage() != null
                ? what + ": " + firstLine(h.getCause().getMessage()) : what;
    }

    /** The path's device id, checked. */
    static String id(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        if (!DeviceId.isValid(id)) {
            throw new BadRequest("'" + id + "' is not a device id (64 lowercase hex characters)");
        }
        return id;
    }

    /** The request's body as a JSON object; no body is an empty object. */
    static JsonNode object(RoutingContext ctx) {
        byte[] bytes = jsonBytes(ctx);
        if (bytes.length == 0) {
            return JSON.createObjectNode();
        }
        JsonNode n;
        try {
            n = JSON.readTree(bytes);
        } catch (java.io.IOException e) {
            throw new BadRequest("body is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (n == null || !n.isObject()) {
            throw new BadRequest("body must be a JSON object");
        }
        return n;
    }

    /** The body's bytes, which must be declared JSON: a form or text body is refused rather than misread. */
    static byte[] jsonBytes(RoutingContext ctx) {
        Buffer b = ctx.body() == null ? null : ctx.body().buffer();
        String type = ctx.request().getHeader("Content-Type");
        String length = ctx.request().getHeader("Content-Length");
        // Judged by what the client declared, not by what was decoded: a form or an upload leaves no raw body.
        boolean sent = (b != null && b.length() > 0) || (length != null && !length.trim().equals("0"))
                || ctx.request().getHeader("Transfer-Encoding") != null;
        if (!sent) {
            return new byte[0];
        }
        String mediaType = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw new BadRequest("send the body as JSON with Content-Type: application/json, got "
                    + (type == null ? "no Content-Type" : show(type)));
        }
        return b == null ? new byte[0] : b.getBytes();
    }

    static String requiredText(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            throw new BadRequest(field + " is required");
        }
        if (!v.isTextual()) {
            throw new BadRequest(field + " must be a string");
        }
        return v.asText();
    }

    static String optionalText(JsonNode body, String field, int max, String dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw new BadRequest(field + " must be a string");
        }
        String t = v.asText();
        if (t.isBlank() || t.length() > max || t.chars().anyMatch(c -> Character.isISOControl(c))) {
            throw new BadRequest(field + " must be 1.." + max + " characters without control characters");
        }
        return t;
    }

    static String label(String label) {
        if (!PolicyStore.validName(label)) {
            throw new BadRequest("label must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
                    + "digit, got " + show(label));
        }
        return label;
    }

    /** Client text quoted for an error message: at most 80 characters, control characters escaped. */
    static String show(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        StringBuilder out = new StringBuilder("'");
        t.codePoints().forEach(c -> out.append(Character.isISOControl(c) ? String.format("\\u%04x", c)
                : new String(Character.toChars(c))));
        return out.append('\'').toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** A refusal the client caused: its status and a reason in the client's terms. */
    static class ApiError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        ApiError(int status, String m) {
            super(m, null, false, false);
            this.status = status;
        }
    }

    static final class NotFound extends ApiError {
        private static final long serialVersionUID = 1L;

        NotFound(String m) {
            super(404, m);
        }
    }

    static final class BadRequest extends ApiError {
        private static final long serialVersionUID = 1L;

        BadRequest(String m) {
            super(400, m);
        }
    }
}
