package dev.outpost.appliance.admin;

import static dev.outpost.appliance.admin.AdminHttp.error;
import static dev.outpost.appliance.admin.AdminHttp.object;
import static dev.outpost.appliance.admin.AdminHttp.requiredText;
import static dev.outpost.appliance.admin.AdminHttp.show;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.appliance.admin.AdminHttp.ApiError;
import dev.outpost.appliance.admin.AdminHttp.BadRequest;
import dev.outpost.appliance.admin.AdminHttp.NotFound;
import dev.outpost.appliance.ca.CaException;
import dev.outpost.appliance.ca.CaInstaller;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.store.BundleStore;
import io.vertx.ext.web.Router;

/** The site CA and its bundle: {@code ca show}, {@code ca csr}, {@code ca install}, {@code bundle show}. */
final class CaRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
    private static final Duration BUNDLE_REFRESH_HINT = Duration.ofMinutes(5);

    private final AdminHttp http;
    private final SiteCa ca;
    private final BundleStore bundles;
    private final CaRotation rotation;
    private final String caMode;
    private final Supplier<List<Map<String, Object>>> jwtKeys;

    /** @param rotation null when this appliance does not manage its CA through the admin API */
    CaRoutes(AdminHttp http, SiteCa ca, BundleStore bundles, CaRotation rotation, String caMode,
            Supplier<List<Map<String, Object>>> jwtKeys) {
        this.http = http;
        this.ca = ca;
        this.bundles = bundles;
        this.rotation = rotation;
        this.caMode = caMode;
        this.jwtKeys = jwtKeys;
    }

    void register(Router r) {
        r.get("/v1/ca").handler(ctx -> http.reply(ctx, this::view));
        r.post("/v1/ca/csr").handler(ctx -> http.reply(ctx, () -> {
            JsonNode b = object(ctx);
            boolean newKey = b.path("newKey").asBoolean(false);
            return Map.of("csr", rotation().csr(newKey));
        }));
        r.post("/v1/ca/install").handler(ctx -> http.reply(ctx, () -> install(object(ctx))));
        r.get("/v1/bundle").handler(ctx -> {
            String format = ctx.queryParams().get("format") == null ? "pem" : ctx.queryParams().get("format");
            if (!format.equals("pem") && !format.equals("spiffe")) {
                error(ctx, new BadRequest("format must be pem or spiffe, got " + show(format)));
                return;
            }
            http.vertx().executeBlocking(() -> "spiffe".equals(format)
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
    }

    private Object install(JsonNode b) throws Exception {
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
            Map<String, Object> out = new LinkedHashMap<>(view());
            out.put("installed", o == CaInstaller.Outcome.ACTIVE ? "active" : "next");
            return out;
        } catch (CaException e) {
            throw new ApiError(409, "refused, nothing changed: " + e.getMessage());
        }
    }

    private CaRotation rotation() {
        if (rotation == null) {
            throw new NotFound("this appliance does not manage its CA through the admin API");
        }
        return rotation;
    }

    private Map<String, Object> view() {
        Map<String, Object> m = new LinkedHashMap<>();
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
}
