package dev.outpost.appliance.admin;

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

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.store.AllowListStore;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.BundleStore;
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

    private final Vertx vertx;
    private final DeviceStore devices;
    private final AllowListStore allowList;
    private final AuditLog audit;
    private final BundleStore bundles;
    private final SiteCa ca;
    private final PolicyStore policies;
    private final AttestationService attestation;
    private final Consumer<String> onRevoke;
    private final String site;

    public AdminApi(Vertx vertx, DeviceStore devices, AllowListStore allowList, AuditLog audit, BundleStore bundles,
            SiteCa ca, PolicyStore policies, AttestationService attestation, String site, Consumer<String> onRevoke) {
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
        // never sees its body.
        r.post("/v1/policies/:name").handler(BodyHandler.create().setBodyLimit(64L * 1024 * 1024))
                .handler(ctx -> reply(ctx, () -> addPolicy(ctx.pathParam("name"), ctx.queryParams().get("kind"),
                        ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes())));
        r.route().handler(BodyHandler.create().setBodyLimit(64 * 1024));
        r.get("/v1/devices").handler(ctx -> reply(ctx, () -> devices.list().stream().map(this::view).toList()));
        r.get("/v1/devices/:id").handler(ctx -> reply(ctx, () -> devices.find(id(ctx)).map(this::view)
                .orElseThrow(() -> new NotFound("no device " + ctx.pathParam("id")))));
        r.post("/v1/devices/:id/revoke").handler(ctx -> reply(ctx, () -> revoke(id(ctx), body(ctx).path("reason")
                .asText("revoked by operator"))));
        r.get("/v1/allow").handler(ctx -> reply(ctx, () -> allowList.list()));
        r.post("/v1/allow").handler(ctx -> reply(ctx, () -> allow(body(ctx))));
        r.delete("/v1/allow/:id").handler(ctx -> reply(ctx, () -> Map.of("removed", allowList.remove(id(ctx)))));
        r.get("/v1/audit").handler(ctx -> reply(ctx, () -> {
            int limit = Math.min(1000, Integer.parseInt(ctx.queryParams().get("limit") == null ? "100"
                    : ctx.queryParams().get("limit")));
            String device = ctx.queryParams().get("device");
            return device == null ? audit.recent(limit) : audit.forDevice(device, limit);
        }));
        r.get("/v1/ca").handler(ctx -> reply(ctx, () -> Map.of(
                "trustDomain", ca.trustDomain(),
                "subject", ca.certificate().getSubjectX500Principal().getName(),
                "notAfter", ca.notAfter().toString(),
                "mode", ca.chain().size() > 1 ? "nested" : "root",
                "pem", TrustBundle.of(ca).pem())));
        r.get("/v1/bundle").handler(ctx -> {
            String format = ctx.queryParams().get("format") == null ? "pem" : ctx.queryParams().get("format");
            vertx.executeBlocking(() -> "spiffe".equals(format)
                    ? TrustBundle.of(ca).spiffeJwks(bundles.sequence(), BUNDLE_REFRESH_HINT)
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
            String label = body(ctx).path("label").asText("");
            policies.label(id(ctx), label);
            return Map.of("device", ctx.pathParam("id"), "label", label);
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
            JsonNode b = body(ctx);
            String target = b.hasNonNull("device") ? "device:" + b.get("device").asText()
                    : b.hasNonNull("label") ? "label:" + b.get("label").asText() : null;
            if (target == null || (target.startsWith("device:") && !DeviceId.isValid(target.substring(7)))) {
                throw new BadRequest("assign to {\"device\": ID} or {\"label\": LABEL}");
            }
            policies.assign(target, ctx.pathParam("name"));
            return Map.of("policy", ctx.pathParam("name"), "assignedTo", target);
        }));
        r.get("/health").handler(ctx -> ctx.response().end("{\"status\":\"ok\"}"));
        return r;
    }

    /** The device with its attestation-derived selectors, for registration entries. */
    private DeviceView view(dev.outpost.appliance.store.DeviceRecord d) {
        java.util.List<String> selectors = new java.util.ArrayList<>(d.selectors());
        selectors.add("outpost:state:" + d.state().dbValue());
        selectors.add("outpost:site:" + site);
        for (PolicyStore.Kind k : PolicyStore.Kind.values()) {
            policies.resolve(d.deviceId(), k).ifPresent(p -> selectors.add("outpost:policy:" + p));
        }
        return DeviceView.of(d, selectors);
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
        audit.record(AuditEvent.of(Instant.now(), null, "policy", AuditEvent.Decision.INFO,
                k.db() + " policy " + name + " stored (sha256 " + p.sha256() + ")", "operator"));
        return Map.of("policy", name, "kind", k.db(), "sha256", p.sha256());
    }

    private Object clear(String id) {
        var d = devices.find(id).orElseThrow(() -> new NotFound("no device " + id));
        if (d.state() == dev.outpost.appliance.store.DeviceState.REVOKED) {
            throw new BadRequest("a revoked device stays revoked; enroll it again under a new decision");
        }
        if (!attestation.clear(id)) {
            throw new BadRequest("a revoked device stays revoked; enroll it again under a new decision");
        }
        audit.record(AuditEvent.of(Instant.now(), id, "clear", AuditEvent.Decision.INFO,
                "cleared by operator: full re-attestation required", "operator"));
        return Map.of("cleared", id, "state", "pending");
    }

    private Object revoke(String id, String reason) {
        boolean changed = devices.revoke(id, reason, Instant.now());
        if (!changed) {
            throw new NotFound("no device " + id);
        }
        audit.record(AuditEvent.of(Instant.now(), id, "revoke", AuditEvent.Decision.DENY, reason, "operator"));
        onRevoke.accept(id);
        return Map.of("revoked", id, "reason", reason);
    }

    private Object allow(JsonNode body) {
        String hash = body.path("ekHash").asText("");
        if (!DeviceId.isValid(hash)) {
            throw new BadRequest("ekHash must be 64 lowercase hex characters (SHA-256 of the EK's DER public key)");
        }
        allowList.add(hash, AllowListStore.Source.CLI, body.path("note").asText(null));
        audit.record(AuditEvent.of(Instant.now(), hash, "allow", AuditEvent.Decision.INFO, "added to the allow-list",
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

    private static JsonNode body(RoutingContext ctx) {
        try {
            Buffer b = ctx.body().buffer();
            return b == null || b.length() == 0 ? JSON.createObjectNode() : JSON.readTree(b.getBytes());
        } catch (java.io.IOException e) {
            throw new BadRequest("body is not JSON");
        }
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
        int status = t instanceof NotFound ? 404 : t instanceof BadRequest ? 400 : 500;
        String message = status == 500 ? "internal error (see the appliance log)" : t.getMessage();
        if (status == 500) {
            LOG.error("admin API {} {} failed", ctx.request().method(), ctx.request().path(), t);
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(JSON.createObjectNode().put("error", message).toString());
    }

    static final class NotFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotFound(String m) {
            super(m);
        }
    }

    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String m) {
            super(m);
        }
    }
}
