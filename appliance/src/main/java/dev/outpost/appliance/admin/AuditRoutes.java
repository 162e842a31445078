package dev.outpost.appliance.admin;

import static dev.outpost.appliance.admin.AdminHttp.error;
import static dev.outpost.appliance.admin.AdminHttp.show;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.outpost.appliance.admin.AdminHttp.BadRequest;
import dev.outpost.appliance.admin.AdminHttp.NotFound;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.tpm.keys.DeviceId;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The audit trail and the site backup while the appliance runs (the database admits one process, so the CLI asks
 * it): {@code audit}, {@code audit verify}, {@code audit export}, {@code backup}.
 */
final class AuditRoutes {
    private static final int DEFAULT_LIMIT = 100;
    private static final int MAX_LIMIT = 1000;

    private final AdminHttp http;
    private final AuditLog audit;
    private final Callable<Object> verify;
    private final AdminApi.AuditExporter export;
    private final Callable<Path> backup;

    /** Each of {@code verify}, {@code export} and {@code backup} may be null: the route then answers 404. */
    AuditRoutes(AdminHttp http, AuditLog audit, Callable<Object> verify, AdminApi.AuditExporter export,
            Callable<Path> backup) {
        this.http = http;
        this.audit = audit;
        this.verify = verify;
        this.export = export;
        this.backup = backup;
    }

    void register(Router r) {
        r.get("/v1/audit").handler(ctx -> http.reply(ctx, () -> {
            int limit = limit(ctx.queryParams().get("limit"));
            String device = ctx.queryParams().get("device");
            if (device != null && !DeviceId.isValid(device)) {
                throw new BadRequest("device must be a device id (64 lowercase hex characters), got " + show(device));
            }
            return device == null ? audit.recent(limit) : audit.forDevice(device, limit);
        }));
        r.get("/v1/audit/verify").handler(ctx -> http.reply(ctx, () -> {
            if (verify == null) {
                throw new NotFound("this appliance offers no audit verification");
            }
            return verify.call();
        }));
        r.post("/v1/audit/export").handler(this::export);
        // A site archive (database and CA) streamed from a file of its own, deleted once sent: the database may be
        // far larger than the heap.
        r.post("/v1/backup").handler(ctx -> {
            if (backup == null) {
                error(ctx, new NotFound("this appliance offers no backup"));
                return;
            }
            http.sendMadeFile(ctx, backup, "application/gzip");
        });
    }

    private void export(RoutingContext ctx) {
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
        http.sendMadeFile(ctx, () -> export.export(since), "application/jsonl");
    }

    private static int limit(String text) {
        if (text == null) {
            return DEFAULT_LIMIT;
        }
        if (text.matches("[0-9]{1,4}")) {
            int n = Integer.parseInt(text);
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        }
        throw new BadRequest("limit must be a whole number 1.." + MAX_LIMIT + ", got " + show(text));
    }
}
