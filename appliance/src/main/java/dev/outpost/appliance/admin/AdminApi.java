package dev.outpost.appliance.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import dev.outpost.appliance.ca.CaException;
import dev.outpost.appliance.ca.CaInstaller;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.store.AllowListStore;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AttestationStore;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.BundleStore;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.appliance.attest.AttestationService;
import dev.outpost.tpm.keys.DeviceId;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The node-local admin API the CLI talks to, served on a Unix socket only the service user can open. Every
 * store access runs on a worker; replies are JSON, errors say why and never carry a stack trace.
 */
public final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    private static final Duration BUNDLE_REFRESH_HINT = Duration.ofMinutes(5);
    private static final int DEFAULT_AUDIT_LIMIT = 100;
    private static final int MAX_AUDIT_LIMIT = 1000;
    /** Revocation reasons and allow-list notes: the store keeps 1024 characters of them. */
    private static final int MAX_TEXT = 1024;

    private final Vertx vertx;
    private final DeviceStore devices;
    private final AllowListStore allowList;
    private final AuditLog audit;
    private final BundleStore bundles;
    private final SiteCa ca;
    private final PolicyStore policies;
    private final AttestationService attestation;
    private final AttestationStore attestations;
    private final Consumer<String> onRevoke;
    private final Clock clock;
    private final String site;
    private Callable<java.nio.file.Path> backup;
    private volatile Callable<Object> auditVerify;
    private volatile AuditExporter auditExport;

    /** Writes the audit export of records above {@code since} to a file of its own, which the caller deletes. */
    @FunctionalInterface
    public interface AuditExporter {
        java.nio.file.Path export(long since) throws Exception;
    }
    private volatile java.util.function.Supplier<Map<String, Object>> outbox;
    private volatile CaRotation rotation;
    private volatile String caMode = "standalone";
    private dev.outpost.appliance.workload.EntryRoutes entryRoutes;
    private volatile java.util.function.Supplier<java.util.List<Map<String, Object>>> jwtKeys = java.util.List::of;

    public AdminApi(Vertx vertx, DeviceStore devices, AllowListStore allowList, AuditLog audit, BundleStore bundles,
            SiteCa ca, PolicyStore policies, AttestationService attestation, AttestationStore attestations, String site,
            Clock clock, Consumer<String> onRevoke) {
        this.clock = clock;
        this.attestations = attestations;
        this.vertx = vertx;
        this.devices = devices;
        this.allowList = allowList;
        this.audit = audit;
        this.bundles = bundles;
        this.ca = ca;
        this.policies = policies;
        this.attestation = attestation;
        this.onRevoke = onRevoke;
        this.site = site;
    }

    public Router router() {
        Router r = Router.router(vertx);
        // Policies can be megabytes (100,000 paths); this route comes first so the small default limit below
        // never sees its body. No file uploads: a multipart body would otherwise be written to the working directory.
        r.post("/v1/policies/:name").handler(BodyHandler.create().setBodyLimit(64L * 1024 * 1024)
                        .setHandleFileUploads(false))
                .handler(ctx -> reply(ctx, () -> addPolicy(ctx.pathParam("name"), ctx.queryParams().get("kind"),
                        jsonBytes(ctx))));
        r.route().handler(BodyHandler.create().setBodyLimit(64 * 1024).setHandleFileUploads(false));
        if (entryRoutes != null) {
            entryRoutes.register(r);
        }
        // The listing leaves out the attestation record: one more query per device, on sites of thousands.
        r.get("/v1/devices").handler(ctx -> reply(ctx, () -> devices.list().stream().map(d -> view(d, false)).toList()));
        r.get("/v1/devices/:id").handler(ctx -> reply(ctx, () -> device(id(ctx))));
        r.post("/v1/devices/:id/revoke").handler(ctx -> reply(ctx, () -> revoke(id(ctx), optionalText(object(ctx),
                "reason", MAX_TEXT, "revoked by operator"))));
        r.get("/v1/allow").handler(ctx -> reply(ctx, () -> allowList.list()));
        r.post("/v1/allow").handler(ctx -> reply(ctx, () -> allow(object(ctx))));
        r.delete("/v1/allow/:id").handler(ctx -> reply(ctx, () -> Map.of("removed", allowList.remove(id(ctx)))));
        r.get("/v1/audit").handler(ctx -> reply(ctx, () -> {
            int limit = limit(ctx.queryParams().get("limit"));
            String device = ctx.queryParams().get("device");
            if (device != null && !DeviceId.isValid(device)) {
                throw new BadRequest("device must be a device id (64 lowercase hex characters), got " + show(device));
            }
            return device == null ? audit.recent(limit) : audit.forDevice(device, limit);
        }));
        // The audit trail verified while the appliance runs (the database admits one process: the CLI asks us).
        r.get("/v1/audit/verify").handler(ctx -> reply(ctx, () -> {
            Callable<Object> v = auditVerify;
            if (v == null) {
                throw new NotFound("this appliance offers no audit verification");
            }
            return v.call();
        }));
        r.get("/v1/ca").handler(ctx -> reply(ctx, this::caView));
        r.post("/v1/ca/csr").handler(ctx -> reply(ctx, () -> {
            JsonNode b = object(ctx);
            boolean newKey = b.path("newKey").asBoolean(false);
            return Map.of("csr", rotation().csr(newKey));
        }));
        r.post("/v1/ca/install").handler(ctx -> reply(ctx, () -> {
            JsonNode b = object(ctx);
            if (!"nested".equals(caMode)) {
                throw new ApiError(409, "ca.mode is standalone (a self-signed CA rotated by the appliance); set "
                        + "ca.mode: nested to use a CA signed upstream");
            }
            String cert = requiredText(b, "certificate");
            String chain = b.hasNonNull("chain") ? requiredText(b, "chain") : null;
            try {
                CaInstaller.Outcome o = rotation().install(cert, chain);
                LOG.info("operator installed a site CA ({})", o == CaInstaller.Outcome.ACTIVE ? "active now"
                        : "next, active at " + rotation().activateAt());
                Map<String, Object> out = new java.util.LinkedHashMap<>(caView());
                out.put("installed", o == CaInstaller.Outcome.ACTIVE ? "active" : "next");
                return out;
            } catch (CaException e) {
                throw new ApiError(409, "refused, nothing changed: " + e.getMessage());
            }
        }));
        r.get("/v1/bundle").handler(ctx -> {
            String format = ctx.queryParams().get("format") == null ? "pem" : ctx.queryParams().get("format");
            if (!format.equals("pem") && !format.equals("spiffe")) {
                error(ctx, new BadRequest("format must be pem or spiffe, got " + show(format)));
                return;
            }
            vertx.executeBlocking(() -> "spiffe".equals(format)
                    ? TrustBundle.of(ca).withJwtKeys(jwtKeys.get()).spiffeJwks(bundles.sequence(), BUNDLE_REFRESH_HINT)
                    : TrustBundle.of(ca).pem(), false).onComplete(ar -> {
                        if (ar.succeeded()) {
                            ctx.response().putHeader("Content-Type", "spiffe".equals(format)
                                    ? "application/json" : "application/x-pem-file").end(ar.result());
                        } else {
                            error(ctx, ar.cause());
                        }
                    });
        });
        r.post("/v1/devices/:id/clear").handler(ctx -> reply(ctx, () -> clear(id(ctx))));
        r.post("/v1/devices/:id/labels").handler(ctx -> reply(ctx, () -> {
            String id = id(ctx);
            String label = label(requiredText(object(ctx), "label"));
            devices.find(id).orElseThrow(() -> new NotFound("no device " + id));
            policies.label(id, label);
            return Map.of("device", id, "label", label);
        }));
        r.get("/v1/policies").handler(ctx -> reply(ctx, () -> policies.list()));
        r.get("/v1/policies/:name").handler(ctx -> vertx.executeBlocking(() -> policies.get(ctx.pathParam("name"))
                .orElseThrow(() -> new NotFound("no policy " + ctx.pathParam("name"))), false).onComplete(ar -> {
                    if (ar.succeeded()) {
                        ctx.response().putHeader("Content-Type", "application/json").end(Buffer.buffer(ar.result().content()));
                    } else {
                        error(ctx, ar.cause());
                    }
                }));
        r.post("/v1/policies/:name/assign").handler(ctx -> reply(ctx, () -> {
            JsonNode b = object(ctx);
            String name = ctx.pathParam("name");
            if (b.has("device") == b.has("label")) {
                throw new BadRequest("assign to exactly one of {\"device\": ID} or {\"label\": LABEL}");
            }
            String target;
            if (b.has("device")) {
                String device = requiredText(b, "device");
                if (!DeviceId.isValid(device)) {
                    throw new BadRequest("device must be a device id (64 lowercase hex characters), got " + show(device));
                }
                target = "device:" + device;
            } else {
                target = "label:" + label(requiredText(b, "label"));
            }
            policies.get(name).orElseThrow(() -> new NotFound("no policy " + name + " (store it first: policy add)"));
            policies.assign(target, name);
            return Map.of("policy", name, "assignedTo", target);
        }));
        r.post("/v1/backup").handler(this::backup);
        r.post("/v1/audit/export").handler(this::auditExport);
        r.get("/v1/status").handler(ctx -> reply(ctx, this::status));
        r.get("/health").handler(ctx -> ctx.response().end("{\"status\":\"ok\"}"));
        // What the router answers by itself (no route, wrong method, body over the limit, an exception in a
        // handler) is JSON with the reason too, never an HTML page or a stack trace.
        r.errorHandler(404, ctx -> error(ctx, new NotFound("no such resource: " + ctx.request().method() + " "
                + ctx.request().path())));
        r.errorHandler(405, ctx -> error(ctx, new ApiError(405, ctx.request().method() + " is not allowed on "
                + ctx.request().path())));
        r.errorHandler(413, ctx -> error(ctx, new ApiError(413, "body too large")));
        r.errorHandler(400, ctx -> error(ctx, ctx.failure() != null ? ctx.failure() : new BadRequest("bad request")));
        r.errorHandler(500, ctx -> error(ctx, ctx.failure()));
        return r;
    }

    /** The site's JWT authorities, published in {@code bundle show --format spiffe} with use jwt-svid. */
    public AdminApi withJwtKeys(java.util.function.Supplier<java.util.List<Map<String, Object>>> keys) {
        this.jwtKeys = keys;
        return this;
    }

    /** Serves the registration entries ({@code entry create|list|show|delete}); before the router is built. */
    public AdminApi withEntries(dev.outpost.appliance.workload.EntryRoutes routes) {
        this.entryRoutes = routes;
        return this;
    }

    /** Serves the outbox's state in {@code GET /v1/status} ({@code outpost-appliance status}). */
    public AdminApi withOutbox(java.util.function.Supplier<Map<String, Object>> outbox) {
        this.outbox = outbox;
        return this;
    }

    private Map<String, Object> status() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("site", site);
        m.put("trustDomain", ca.trustDomain());
        m.put("caNotAfter", ca.notAfter().toString());
        m.put("outbox", outbox == null ? null : outbox.get());
        return m;
    }

    /** Serves the CA's file flow and rotation state ({@code ca csr}, {@code ca install}, {@code ca show}). */
    public AdminApi withCaRotation(CaRotation rotation, String mode) {
        this.rotation = rotation;
        this.caMode = mode;
        return this;
    }

    private CaRotation rotation() {
        if (rotation == null) {
            throw new NotFound("this appliance does not manage its CA through the admin API");
        }
        return rotation;
    }

    private Map<String, Object> caView() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("trustDomain", ca.trustDomain());
        m.put("mode", caMode);
        // How the CA key is kept at rest: "tpm (sealed to URI, PCRs ...)" or "file (no TPM)".
        m.put("keyProtection", rotation != null ? rotation.keyProtection() : "file (no TPM)");
        m.put("subject", ca.certificate().getSubjectX500Principal().getName());
        m.put("notAfter", ca.notAfter().toString());
        m.put("expired", ca.expired());
        m.put("chain", ca.chain().stream().map(c -> Map.of("subject", c.getSubjectX500Principal().getName(),
                "issuer", c.getIssuerX500Principal().getName(), "notAfter", c.getNotAfter().toInstant().toString()))
                .toList());
        m.put("roots", ca.trustAnchors().stream().map(c -> Map.of("subject", c.getSubjectX500Principal().getName(),
                "notAfter", c.getNotAfter().toInstant().toString())).toList());
        if (rotation != null) {
            m.put("rotation", rotation.describe());
        }
        m.put("pem", TrustBundle.of(ca).pem());
        return m;
    }

    /**
     * Serves POST /v1/backup: {@code archive} writes a site archive (database and CA) to a file of its own, which
     * is streamed back and deleted once sent. Streamed, not held: the database may be far larger than the heap.
     */
    /** {@code GET /v1/audit/verify}: the report of {@code audit verify}, made by the running appliance. */
    public AdminApi withAuditVerify(Callable<Object> verify) {
        this.auditVerify = verify;
        return this;
    }

    /** {@code POST /v1/audit/export?since=N}: the JSON lines of {@code audit export}, written by the running appliance. */
    public AdminApi withAuditExport(AuditExporter export) {
        this.auditExport = export;
        return this;
    }

    private void auditExport(RoutingContext ctx) {
        AuditExporter export = auditExport;
        if (export == null) {
            error(ctx, new NotFound("this appliance offers no audit export"));
            return;
        }
        long since;
        try {
            since = Long.parseLong(ctx.request().getParam("since", "0"));
        } catch (NumberFormatException e) {
            error(ctx, new BadRequest("since must be a sequence number, got " + show(ctx.request().getParam("since"))));
            return;
        }
        if (since < 0) {
            error(ctx, new BadRequest("since must be 0 or more, got " + since));
            return;
        }
        sendMadeFile(ctx, () -> export.export(since), "application/jsonl");
    }

    /** Makes a file on a worker, sends it with its length, then deletes it (a backup, an audit export). */
    private void sendMadeFile(RoutingContext ctx, Callable<java.nio.file.Path> make, String contentType) {
        vertx.executeBlocking(make, false).onComplete(ar -> {
            if (ar.failed()) {
                error(ctx, ar.cause());
                return;
            }
            java.nio.file.Path file = ar.result();
            ctx.response().putHeader("Content-Type", contentType).sendFile(file.toString())
                    .onComplete(sent -> vertx.executeBlocking(() -> java.nio.file.Files.deleteIfExists(file), false));
        });
    }

    public AdminApi withBackup(Callable<java.nio.file.Path> archive) {
        this.backup = archive;
        return this;
    }

    private void backup(RoutingContext ctx) {
        if (backup == null) {
            error(ctx, new NotFound("this appliance offers no backup"));
            return;
        }
        sendMadeFile(ctx, backup, "application/gzip");
    }

    private Object device(String id) {
        DeviceRecord d = devices.find(id).orElseThrow(() -> new NotFound("no device " + id));
        return view(d, true);
    }

    /** The device with its attestation-derived selectors, for registration entries. */
    private DeviceView view(DeviceRecord d, boolean withAttestation) {
        java.util.List<String> selectors = new dev.outpost.appliance.workload.NodeSelectors(policies, site).of(d);
        return DeviceView.of(d, withAttestation ? attestations.get(d.deviceId()) : null, selectors);
    }

    // Parsed before it is stored: a policy the verifier cannot read would fail every device it is assigned to.
    private Object addPolicy(String name, String kind, byte[] content) {
        if (!PolicyStore.validName(name)) {
            throw new BadRequest("policy name must be 1-64 letters, digits, '.', '_' or '-'");
        }
        PolicyStore.Kind k;
        try {
            k = PolicyStore.Kind.valueOf(String.valueOf(kind).toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadRequest("kind must be runtime or boot");
        }
        try {
            if (k == PolicyStore.Kind.RUNTIME) {
                dev.outpost.ima.policy.PolicyLoader.unsigned().load(content);
            } else {
                new dev.outpost.ima.boot.BootPolicyJson().read(content);
            }
        } catch (RuntimeException e) {
            throw new BadRequest("not a valid " + k.db() + " policy: " + e.getMessage());
        }
        PolicyStore.Policy p = policies.put(name, k, content);
        audit.record(AuditEvent.of(clock.instant(), null, "policy", AuditEvent.Decision.INFO,
                k.db() + " policy " + name + " stored (sha256 " + p.sha256() + ")", "operator"));
        return Map.of("policy", name, "kind", k.db(), "sha256", p.sha256());
    }

    private Object clear(String id) {
        DeviceRecord d = devices.find(id).orElseThrow(() -> new NotFound("no device " + id));
        if (d.state() == dev.outpost.appliance.store.DeviceState.REVOKED) {
            throw new BadRequest("a revoked device stays revoked: clearing is for failed devices");
        }
        if (!attestation.clear(id)) {
            throw new BadRequest("a revoked device stays revoked: clearing is for failed devices");
        }
        return Map.of("cleared", id, "state", "pending");
    }

    private Object revoke(String id, String reason) {
        DeviceRecord d = devices.find(id).orElseThrow(() -> new NotFound("no device " + id));
        Instant now = clock.instant();
        if (!devices.revoke(id, reason, now, audit, AuditEvent.of(now, id, "revoke", AuditEvent.Decision.DENY, reason,
                "operator"))) {
            throw new ApiError(409, "device " + id + " is already revoked" + (d.revokedAt() == null ? ""
                    : " (since " + d.revokedAt() + ": " + d.revokeReason() + ")"));
        }
        onRevoke.accept(id);
        return Map.of("revoked", id, "reason", reason);
    }

    private Object allow(JsonNode body) {
        String hash = requiredText(body, "ekHash");
        if (!DeviceId.isValid(hash)) {
            throw new BadRequest("ekHash must be 64 lowercase hex characters (SHA-256 of the EK's DER public key), got "
                    + show(hash));
        }
        allowList.add(hash, AllowListStore.Source.CLI, optionalText(body, "note", MAX_TEXT, null));
        audit.record(AuditEvent.of(clock.instant(), hash, "allow", AuditEvent.Decision.INFO, "added to the allow-list",
                "operator"));
        return Map.of("allowed", hash);
    }

    private static String id(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        if (!DeviceId.isValid(id)) {
            throw new BadRequest("'" + id + "' is not a device id (64 lowercase hex characters)");
        }
        return id;
    }

    /** The request's body as a JSON object; no body is an empty object. */
    private static JsonNode object(RoutingContext ctx) {
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
    private static byte[] jsonBytes(RoutingContext ctx) {
        Buffer b = ctx.body() == null ? null : ctx.body().buffer();
        String type = ctx.request().getHeader("Content-Type");
        String length = ctx.request().getHeader("Content-Length");
        // Judged by what the client declared, not by what was decoded: a form or an upload leaves no raw body.
        boolean sent = (b != null && b.length() > 0) || (length != null && !length.trim().equals("0"))
                || ctx.request().getHeader("Transfer-Encoding") != null;
        if (!sent) {
            return new byte[0];
        }
        String mediaType = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw new BadRequest("send the body as JSON with Content-Type: application/json, got "
                    + (type == null ? "no Content-Type" : show(type)));
        }
        return b == null ? new byte[0] : b.getBytes();
    }

    private static String requiredText(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            throw new BadRequest(field + " is required");
        }
        if (!v.isTextual()) {
            throw new BadRequest(field + " must be a string");
        }
        return v.asText();
    }

    private static String optionalText(JsonNode body, String field, int max, String dflt) {
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

    private static String label(String label) {
        if (!PolicyStore.validName(label)) {
            throw new BadRequest("label must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
                    + "digit, got " + show(label));
        }
        return label;
    }

    private static int limit(String text) {
        if (text == null) {
            return DEFAULT_AUDIT_LIMIT;
        }
        if (text.matches("[0-9]{1,4}")) {
            int n = Integer.parseInt(text);
            if (n >= 1 && n <= MAX_AUDIT_LIMIT) {
                return n;
            }
        }
        throw new BadRequest("limit must be a whole number 1.." + MAX_AUDIT_LIMIT + ", got " + show(text));
    }

    private static String show(String s) {
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

    private void reply(RoutingContext ctx, Callable<Object> work) {
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

    private static void error(RoutingContext ctx, Throwable t) {
        // Vert.x reports undecodable query strings and the like as an HttpException with a 4xx status.
        int status = t instanceof ApiError e ? e.status
                : t instanceof io.vertx.ext.web.handler.HttpException h && h.getStatusCode() >= 400
                        && h.getStatusCode() < 500 ? h.getStatusCode() : 500;
        String message = status == 500 ? "internal error (see the appliance log)"
                : t instanceof io.vertx.ext.web.handler.HttpException h ? describe(h) : t.getMessage();
        if (status == 500) {
            LOG.error("admin API {} {} failed", ctx.request().method(), ctx.request().path(), t);
        }
        if (ctx.response().ended()) {
            return;
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(JSON.createObjectNode().put("error", message).toString());
    }

    private static String describe(io.vertx.ext.web.handler.HttpException h) {
        String what = h.getPayload() != null ? h.getPayload() : h.getMessage();
        return h.getCause() != null && h.getCause().getMessage() != null
                ? what + ": " + firstLine(h.getCause().getMessage()) : what;
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
