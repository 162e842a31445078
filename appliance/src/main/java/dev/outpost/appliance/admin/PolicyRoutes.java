package dev.outpost.appliance.admin;

import static dev.outpost.appliance.admin.AdminHttp.error;
import static dev.outpost.appliance.admin.AdminHttp.id;
import static dev.outpost.appliance.admin.AdminHttp.jsonBytes;
import static dev.outpost.appliance.admin.AdminHttp.label;
import static dev.outpost.appliance.admin.AdminHttp.object;
import static dev.outpost.appliance.admin.AdminHttp.requiredText;
import static dev.outpost.appliance.admin.AdminHttp.show;

import java.time.Clock;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.appliance.admin.AdminHttp.BadRequest;
import dev.outpost.appliance.admin.AdminHttp.NotFound;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.tpm.keys.DeviceId;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/** Runtime and boot policies, their assignment to devices and labels: {@code policy ...}, {@code device label}. */
final class PolicyRoutes {
    // Policies can be megabytes (100,000 paths).
    private static final long MAX_POLICY_BYTES = 64L * 1024 * 1024;

    private final AdminHttp http;
    private final PolicyStore policies;
    private final DeviceStore devices;
    private final AuditLog audit;
    private final Clock clock;

    PolicyRoutes(AdminHttp http, PolicyStore policies, DeviceStore devices, AuditLog audit, Clock clock) {
        this.http = http;
        this.policies = policies;
        this.devices = devices;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * The upload, with its own body limit: registered before the router's small default, which would otherwise
     * refuse it first. No file uploads: a multipart body would otherwise be written to the working directory.
     */
    void registerUpload(Router r) {
        r.post("/v1/policies/:name").handler(BodyHandler.create().setBodyLimit(MAX_POLICY_BYTES)
                        .setHandleFileUploads(false))
                .handler(ctx -> http.reply(ctx, () -> add(ctx.pathParam("name"), ctx.queryParams().get("kind"),
                        jsonBytes(ctx))));
    }

    void register(Router r) {
        r.post("/v1/devices/:id/labels").handler(ctx -> http.reply(ctx, () -> {
            String id = id(ctx);
            String label = label(requiredText(object(ctx), "label"));
            devices.find(id).orElseThrow(() -> new NotFound("no device " + id));
            policies.label(id, label);
            return Map.of("device", id, "label", label);
        }));
        r.get("/v1/policies").handler(ctx -> http.reply(ctx, () -> policies.list()));
        r.get("/v1/policies/:name").handler(ctx -> http.vertx().executeBlocking(() -> policies.get(ctx.pathParam("name"))
                .orElseThrow(() -> new NotFound("no policy " + ctx.pathParam("name"))), false).onComplete(ar -> {
                    if (ar.succeeded()) {
                        ctx.response().putHeader("Content-Type", "application/json").end(Buffer.buffer(ar.result().content()));
                    } else {
                        error(ctx, ar.cause());
                    }
                }));
        r.post("/v1/policies/:name/assign").handler(ctx -> http.reply(ctx, () -> assign(ctx.pathParam("name"),
                object(ctx))));
    }

    // Parsed before it is stored: a policy the verifier cannot read would fail every device it is assigned to.
    private Object add(String name, String kind, byte[] content) {
        if (!PolicyStore.validName(name)) {
            throw new BadRequest("policy name must be 1-64 letters, digits, '.', '_' or '-'");
        }
        PolicyStore.Kind k;
        try {
            k = PolicyStore.Kind.valueOf(String.valueOf(kind).toUpperCase(Locale.ROOT));
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

    private Object assign(String name, JsonNode b) {
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
    }
}
