package dev.outpost.appliance.admin;

import static dev.outpost.appliance.admin.AdminHttp.error;
import static dev.outpost.appliance.admin.AdminHttp.id;
import static dev.outpost.appliance.admin.AdminHttp.object;
import static dev.outpost.appliance.admin.AdminHttp.optionalText;
import static dev.outpost.appliance.admin.AdminHttp.requiredText;
import static dev.outpost.appliance.admin.AdminHttp.show;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.appliance.admin.AdminHttp.ApiError;
import dev.outpost.appliance.admin.AdminHttp.BadRequest;
import dev.outpost.appliance.admin.AdminHttp.NotFound;
import dev.outpost.appliance.attest.AttestationService;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.store.AllowListStore;
import dev.outpost.appliance.store.AttestationStore;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.BundleStore;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.appliance.workload.EntryRoutes;
import dev.outpost.appliance.workload.NodeSelectors;
import dev.outpost.tpm.keys.DeviceId;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The node-local admin API the CLI talks to, served on a Unix socket only the service user can open. Every
 * store access runs on a worker; replies are JSON, errors say why and never carry a stack trace. Devices, the
 * allow-list and the status are served here; the CA ({@link CaRoutes}), policies ({@link PolicyRoutes}), the audit
 * trail and backups ({@link AuditRoutes}) and registration entries ({@link EntryRoutes}) by their own classes.
 * The {@code with...} parts are given before the router is built.
 */
public final class AdminApi {
    /** Revocation reasons and allow-list notes: the store keeps 1024 characters of them. */
    private static final int MAX_TEXT = 1024;

    private final AdminHttp http;
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
    private Callable<Path> backup;
    private Callable<Object> auditVerify;
    private AuditExporter auditExport;
    private CaRotation rotation;
    private String caMode = "standalone";
    private EntryRoutes entryRoutes;
    private Supplier<List<Map<String, Object>>> jwtKeys = List::of;
    // Set once the outbox runs, after the admin socket is up: read per request.
    private volatile Supplier<Map<String, Object>> outbox;
    private volatile Supplier<Map<String, Object>> webhook;

    /** Writes the audit export of records above {@code since} to a file of its own, which the caller deletes. */
    @FunctionalInterface
    public interface AuditExporter {
        Path export(long since) throws Exception;
    }

    public AdminApi(Vertx vertx, DeviceStore devices, AllowListStore allowList, AuditLog audit, BundleStore bundles,
            SiteCa ca, PolicyStore policies, AttestationService attestation, AttestationStore attestations, String site,
            Clock clock, Consumer<String> onRevoke) {
        this.http = new AdminHttp(vertx);
        this.clock = clock;
        this.attestations = attestations;
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
        Router r = Router.router(http.vertx());
        PolicyRoutes policyRoutes = new PolicyRoutes(http, policies, devices, audit, clock);
        // First: a policy upload has its own, larger body limit.
        policyRoutes.registerUpload(r);
        r.route().handler(BodyHandler.create().setBodyLimit(64 * 1024).setHandleFileUploads(false));
        if (entryRoutes != null) {
            entryRoutes.register(r);
        }
        // The listing leaves out the attestation record: one more query per device, on sites of thousands.
        r.get("/v1/devices").handler(ctx -> http.reply(ctx, () -> devices.list().stream().map(d -> view(d, false)).toList()));
        r.get("/v1/devices/:id").handler(ctx -> http.reply(ctx, () -> device(id(ctx))));
        r.post("/v1/devices/:id/revoke").handler(ctx -> http.reply(ctx, () -> revoke(id(ctx), optionalText(object(ctx),
                "reason", MAX_TEXT, "revoked by operator"))));
        r.post("/v1/devices/:id/clear").handler(ctx -> http.reply(ctx, () -> clear(id(ctx))));
        r.get("/v1/allow").handler(ctx -> http.reply(ctx, () -> allowList.list()));
        r.post("/v1/allow").handler(ctx -> http.reply(ctx, () -> allow(object(ctx))));
        r.delete("/v1/allow/:id").handler(ctx -> http.reply(ctx, () -> Map.of("removed", allowList.remove(id(ctx)))));
        policyRoutes.register(r);
        new AuditRoutes(http, audit, auditVerify, auditExport, backup).register(r);
        new CaRoutes(http, ca, bundles, rotation, caMode, jwtKeys).register(r);
        r.get("/v1/status").handler(ctx -> http.reply(ctx, this::status));
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
    public AdminApi withJwtKeys(Supplier<List<Map<String, Object>>> keys) {
        this.jwtKeys = keys;
        return this;
    }

    /** Serves the registration entries ({@code entry create|list|show|delete}). */
    public AdminApi withEntries(EntryRoutes routes) {
        this.entryRoutes = routes;
        return this;
    }

    /** Serves the outbox's state in {@code GET /v1/status} ({@code outpost-appliance status}); also once running. */
    public AdminApi withOutbox(Supplier<Map<String, Object>> outbox) {
        this.outbox = outbox;
        return this;
    }

    /** The revocation webhook's delivery state in {@code /v1/status}, when one is configured. */
    public AdminApi withWebhook(Supplier<Map<String, Object>> webhook) {
        this.webhook = webhook;
        return this;
    }

    /** Serves the CA's file flow and rotation state ({@code ca csr}, {@code ca install}, {@code ca show}). */
    public AdminApi withCaRotation(CaRotation rotation, String mode) {
        this.rotation = rotation;
        this.caMode = mode;
        return this;
    }

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

    /** {@code POST /v1/backup}: {@code archive} writes a site archive (database and CA) to a file of its own. */
    public AdminApi withBackup(Callable<Path> archive) {
        this.backup = archive;
        return this;
    }

    private Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("site", site);
        m.put("trustDomain", ca.trustDomain());
        m.put("caNotAfter", ca.notAfter().toString());
        Supplier<Map<String, Object>> o = outbox;
        m.put("outbox", o == null ? null : o.get());
        Supplier<Map<String, Object>> w = webhook;
        m.put("webhook", w == null ? null : w.get());
        return m;
    }

    private Object device(String id) {
        DeviceRecord d = devices.find(id).orElseThrow(() -> new NotFound("no device " + id));
        return view(d, true);
    }

    /** The device with its attestation-derived selectors, for registration entries. */
    private DeviceView view(DeviceRecord d, boolean withAttestation) {
        List<String> selectors = new NodeSelectors(policies, site).of(d);
        return DeviceView.of(d, withAttestation ? attestations.get(d.deviceId()) : null, selectors);
    }

    private Object clear(String id) {
        DeviceRecord d = devices.find(id).orElseThrow(() -> new NotFound("no device " + id));
        if (d.state() == DeviceState.REVOKED || !attestation.clear(id)) {
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
}
