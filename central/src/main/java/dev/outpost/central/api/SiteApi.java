package dev.outpost.central.api;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import javax.net.ssl.SSLPeerUnverifiedException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.central.directives.DirectiveFeed;
import dev.outpost.central.events.EventBatch;
import dev.outpost.central.events.EventIngest;
import dev.outpost.central.issue.Issued;
import dev.outpost.central.join.JoinService;
import dev.outpost.central.refusal.Refusal;
import dev.outpost.central.sites.SiteAuthenticator;
import dev.outpost.central.sites.SiteNames;
import dev.outpost.central.sites.SiteService;
import dev.outpost.spiffe.PemIo;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The site API of docs/upward-link.md on Vert.x. The event loop does only the cheap parts (headers, limits,
 * certificate chain checks); JSON binding, JDBC and signing run on workers. Every refusal is
 * {@code {"v":1,"error":{code,message}}} with its status, logged with its reason; nothing else leaks.
 */
public final class SiteApi {
    private static final Logger LOG = LoggerFactory.getLogger(SiteApi.class);
    public static final int MAX_BODY = 64 * 1024;
    private static final int MAX_TPM_PUBLIC = 2048;
    private static final int MAX_EK_CERT = 8192;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** {@code POST /v1/site/events} only: a batch of up to 500 events (docs/upward-link.md "Store and forward"). */
    public static final int MAX_EVENTS_BODY = 1024 * 1024;
    public static final String EVENTS_PATH = "/v1/site/events";

    private final Vertx vertx;
    private final JoinService joins;
    private final SiteService sites;
    private final SiteAuthenticator auth;
    private final RateLimiter joinLimiter;
    private DirectiveFeed directives;

    private EventIngest events;
    private dev.outpost.central.bundle.SiteJwtAuthorities jwtAuthorities;

    /** Serves {@code POST /v1/site/jwt-authorities} (before {@link #router()}); without it the route is 404. */
    public SiteApi jwtAuthorities(dev.outpost.central.bundle.SiteJwtAuthorities store) {
        this.jwtAuthorities = store;
        return this;
    }

    public SiteApi(Vertx vertx, JoinService joins, SiteService sites, SiteAuthenticator auth, RateLimiter joinLimiter) {
        this.vertx = vertx;
        this.joins = joins;
        this.sites = sites;
        this.auth = auth;
        this.joinLimiter = joinLimiter;
    }

    /** Serves {@code GET /v1/site/directives} (before {@link #router()}); without it that path is 404. */
    public SiteApi withDirectives(DirectiveFeed feed) {
        this.directives = feed;
        return this;
    }

    /** Serves {@code POST /v1/site/events} with this ingest (before {@link #router()}); without it the route is 404. */
    public SiteApi events(EventIngest ingest) {
        this.events = ingest;
        return this;
    }

    public Router router() {
        Router r = Router.router(vertx);
        r.route().handler(this::limits);
        // The first body handler a request meets reads the body; the events route gets the larger limit.
        r.post(EVENTS_PATH).handler(BodyHandler.create(false).setBodyLimit(MAX_EVENTS_BODY).setHandleFileUploads(false));
        r.post().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY).setHandleFileUploads(false));
        r.route("/v1/join/*").handler(this::rateLimit);
        r.post("/v1/join/tpm/begin").handler(ctx -> work(ctx, () -> tpmBegin(body(ctx, Requests.TpmBegin.class))));
        r.post("/v1/join/tpm/finish").handler(ctx -> work(ctx, () -> tpmFinish(body(ctx, Requests.TpmFinish.class))));
        r.post("/v1/join/token").handler(ctx -> work(ctx, () -> tokenJoin(body(ctx, Requests.TokenJoin.class))));
        r.route("/v1/site/*").handler(this::authenticate);
        r.post("/v1/site/ca").handler(ctx -> work(ctx, () -> siteCa(site(ctx), body(ctx, Requests.SiteCa.class))));
        r.post("/v1/site/credential").handler(ctx -> work(ctx, () -> credential(site(ctx), body(ctx, Requests.Credential.class))));
        r.get("/v1/site/bundle").handler(this::bundle);
        if (directives != null) {
            DirectiveFeed feed = directives;
            r.get("/v1/site/directives").handler(ctx -> work(ctx, () -> feed.answer(query(ctx))));
        }
        if (events != null) {
            r.post(EVENTS_PATH).handler(this::siteEvents);
        }
        if (jwtAuthorities != null) {
            dev.outpost.central.bundle.SiteJwtAuthorities store = jwtAuthorities;
            r.post("/v1/site/jwt-authorities").handler(ctx -> work(ctx, () -> store.accept(site(ctx),
                    ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes())));
        }
        r.route().last().handler(ctx -> fail(ctx, new Refusal(Refusal.Code.NOT_FOUND, "no such endpoint: " + ctx.request().method()
                + " " + ctx.normalizedPath())));
        r.route().failureHandler(this::failure);
        return r;
    }

    // Before the body is read: wrong media type → 415, declared oversize → 413 (BodyHandler enforces the rest).
    private void limits(RoutingContext ctx) {
        if (ctx.request().method() == HttpMethod.POST) {
            String ct = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
            String base = ct == null ? "" : ct.split(";", 2)[0].trim();
            if (!"application/json".equalsIgnoreCase(base)) {
                fail(ctx, new Refusal(Refusal.Code.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json, got "
                        + (ct == null ? "none" : clip(ct))));
                return;
            }
            String len = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (len != null) {
                try {
                    if (Long.parseLong(len.trim()) > maxBody(ctx)) {
                        fail(ctx, new Refusal(Refusal.Code.TOO_LARGE, "body over " + maxBody(ctx) + " bytes"));
                        return;
                    }
                } catch (NumberFormatException e) {
                    fail(ctx, Refusal.badRequest("Content-Length is not a number"));
                    return;
                }
            }
        }
        ctx.next();
    }

    private static long maxBody(RoutingContext ctx) {
        return EVENTS_PATH.equals(ctx.normalizedPath()) ? MAX_EVENTS_BODY : MAX_BODY;
    }

    // A gap is not an error of the request alone: the 409 carries ackedThrough so the site knows where to resume.
    private void siteEvents(RoutingContext ctx) {
        String site = site(ctx);
        vertx.executeBlocking(() -> {
            EventBatch batch = EventBatch.parse(ctx.body() == null || ctx.body().buffer() == null ? new byte[0]
                    : ctx.body().buffer().getBytes());
            return events.ingest(site, batch);
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                fail(ctx, ar.cause());
                return;
            }
            EventIngest.Outcome o = ar.result();
            Map<String, Object> out = v1();
            if (o.divergedAt() > 0) {
                LOG.warn("POST {} from site {}: CONFLICT, its event {} is not the one held under that seq (a restored "
                        + "site reusing numbers); it renumbers after {}", EVENTS_PATH, site, o.divergedAt(), o.ackedThrough());
                Map<String, Object> err = new LinkedHashMap<>();
                err.put("code", Refusal.Code.CONFLICT.name());
                err.put("message", "event " + o.divergedAt() + " differs from the one central holds under that seq; "
                        + "renumber events from there to follow " + o.ackedThrough());
                out.put("error", err);
                out.put("ackedThrough", o.ackedThrough());
                out.put("divergedAt", o.divergedAt());
                respond(ctx, Refusal.Code.CONFLICT.status, JsonCodec.encode(out));
                return;
            }
            if (o.gap()) {
                LOG.info("POST {} from site {}: CONFLICT gap, resend from {}", EVENTS_PATH, site, o.ackedThrough() + 1);
                Map<String, Object> err = new LinkedHashMap<>();
                err.put("code", Refusal.Code.CONFLICT.name());
                err.put("message", "events missing: central holds through " + o.ackedThrough() + "; resend from "
                        + (o.ackedThrough() + 1));
                out.put("error", err);
                out.put("ackedThrough", o.ackedThrough());
                respond(ctx, Refusal.Code.CONFLICT.status, JsonCodec.encode(out));
                return;
            }
            out.put("ackedThrough", o.ackedThrough());
            respond(ctx, 200, JsonCodec.encode(out));
        });
    }

    private void rateLimit(RoutingContext ctx) {
        String address = ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress();
        long wait = joinLimiter.acquire(address);
        if (wait > 0) {
            ctx.response().putHeader("Retry-After", Long.toString(wait));
            fail(ctx, new Refusal(Refusal.Code.RATE_LIMITED, "too many join requests from " + address + "; retry in " + wait + " s"));
            return;
        }
        ctx.next();
    }

    private void authenticate(RoutingContext ctx) {
        List<X509Certificate> chain = new ArrayList<>();
        try {
            if (ctx.request().isSSL()) {
                for (Certificate c : ctx.request().connection().peerCertificates()) {
                    if (c instanceof X509Certificate x) {
                        chain.add(x);
                    }
                }
            }
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate: refused below
        }
        String site;
        try {
            site = auth.claimedSite(chain);
        } catch (Refusal e) {
            fail(ctx, e);
            return;
        }
        X509Certificate leaf = chain.get(0);
        vertx.executeBlocking(() -> auth.authorize(site, leaf), false).onComplete(ar -> {
            if (ar.failed()) {
                fail(ctx, ar.cause());
                return;
            }
            ctx.put("site", site);
            ctx.next();
        });
    }

    private static Map<String, List<String>> query(RoutingContext ctx) {
        Map<String, List<String>> q = new LinkedHashMap<>();
        for (String name : ctx.queryParams().names()) {
            q.put(name, ctx.queryParams().getAll(name));
        }
        return q;
    }

    private static String site(RoutingContext ctx) {
        return ctx.get("site");
    }

    private static <T> T body(RoutingContext ctx, Class<T> type) throws Refusal {
        if (ctx.body() == null || ctx.body().buffer() == null || ctx.body().length() == 0) {
            throw Refusal.badRequest("body is empty");
        }
        return JsonCodec.decode(ctx.body().buffer().getBytes(), type);
    }

    private Map<String, Object> tpmBegin(Requests.TpmBegin b) throws Refusal {
        JsonCodec.version(b.v());
        String site = checkSite(b.site());
        JoinService.Offer o = joins.beginTpm(site,
                JsonCodec.base64(JsonCodec.required(b.ekPublic(), "ekPublic"), "ekPublic", MAX_TPM_PUBLIC),
                JsonCodec.base64(b.ekCertificate(), "ekCertificate", MAX_EK_CERT),
                JsonCodec.base64(JsonCodec.required(b.akPublic(), "akPublic"), "akPublic", MAX_TPM_PUBLIC));
        Map<String, Object> out = v1();
        out.put("joinId", o.joinId());
        out.put("credentialBlob", Base64.getEncoder().encodeToString(o.credentialBlob()));
        out.put("encryptedSecret", Base64.getEncoder().encodeToString(o.encryptedSecret()));
        out.put("expiresAt", o.expiresAt().toString());
        return out;
    }

    private Map<String, Object> tpmFinish(Requests.TpmFinish b) throws Refusal {
        JsonCodec.version(b.v());
        byte[] secret = JsonCodec.base64(JsonCodec.required(b.secret(), "secret"), "secret", 64);
        return joined(joins.finishTpm(JsonCodec.required(b.joinId(), "joinId"), secret, JsonCodec.required(b.csr(), "csr")));
    }

    private Map<String, Object> tokenJoin(Requests.TokenJoin b) throws Refusal {
        JsonCodec.version(b.v());
        return joined(joins.joinByToken(checkSite(b.site()), JsonCodec.required(b.token(), "token"), JsonCodec.required(b.csr(), "csr")));
    }

    private static Map<String, Object> joined(JoinService.Joined j) {
        Map<String, Object> out = v1();
        out.put("site", j.site());
        out.put("credential", credentialChain(j.credential()));
        out.put("trustBundle", PemIo.encode(j.credential().roots()));
        return out;
    }

    private Map<String, Object> siteCa(String site, Requests.SiteCa b) throws Refusal {
        JsonCodec.version(b.v());
        Issued i = sites.signSiteCa(site, JsonCodec.required(b.csr(), "csr"), b.ttlSeconds());
        Map<String, Object> out = v1();
        out.put("certificate", PemIo.encode(List.of(i.certificate())));
        out.put("chain", PemIo.encode(i.chain()));
        out.put("trustBundle", PemIo.encode(i.roots()));
        out.put("notAfter", i.certificate().getNotAfter().toInstant().toString());
        return out;
    }

    private Map<String, Object> credential(String site, Requests.Credential b) throws Refusal {
        JsonCodec.version(b.v());
        Map<String, Object> out = v1();
        out.put("credential", credentialChain(sites.renewCredential(site, JsonCodec.required(b.csr(), "csr"))));
        return out;
    }

    private record BundleAnswer(long sequence, String json) {
    }

    // The document (with federated bundles of up to 1 MiB each) is built on a worker; the loop only compares ETags.
    private void bundle(RoutingContext ctx) {
        vertx.executeBlocking(() -> {
            SiteService.Bundles b = sites.bundles();
            Map<String, Object> out = v1();
            out.put("sequence", b.sequence());
            out.put("bundle", b.bundle());
            Map<String, Object> fed = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : b.federated().entrySet()) {
                fed.put(e.getKey(), JSON.readTree(e.getValue()));
            }
            out.put("federated", fed);
            return new BundleAnswer(b.sequence(), JsonCodec.encode(out));
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                fail(ctx, ar.cause());
                return;
            }
            String etag = "\"" + ar.result().sequence() + "\"";
            ctx.response().putHeader(HttpHeaders.ETAG, etag);
            if (etag.equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
                ctx.response().setStatusCode(304).end();
                return;
            }
            respond(ctx, 200, ar.result().json());
        });
    }

    private static String credentialChain(Issued i) {
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(i.certificate());
        chain.addAll(i.chain());
        return PemIo.encode(chain);
    }

    private static String checkSite(String site) throws Refusal {
        JsonCodec.required(site, "site");
        if (!SiteNames.valid(site)) {
            throw Refusal.badRequest("\"site\" must match ^[a-z0-9][a-z0-9-]{0,62}$");
        }
        return site;
    }

    private static Map<String, Object> v1() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("v", 1);
        return out;
    }

    @FunctionalInterface
    private interface Work {
        Map<String, Object> run() throws Refusal;
    }

    private void work(RoutingContext ctx, Work w) {
        Callable<String> job = () -> JsonCodec.encode(w.run());
        vertx.executeBlocking(job, false).onComplete(ar -> {
            if (ar.succeeded()) {
                respond(ctx, 200, ar.result());
            } else {
                fail(ctx, ar.cause());
            }
        });
    }

    // Vert.x Web reports its own refusals (the body handler's limit, a malformed body) as a status code, with or
    // without an HttpException; they become ours here, anything else is INTERNAL.
    private void failure(RoutingContext ctx) {
        int status = ctx.statusCode();
        if (ctx.failure() instanceof io.vertx.ext.web.handler.HttpException he) {
            status = he.getStatusCode();
        }
        if (status == 413) {
            fail(ctx, new Refusal(Refusal.Code.TOO_LARGE, "body over " + maxBody(ctx) + " bytes"));
        } else if (status == 400) {
            fail(ctx, Refusal.badRequest("malformed request"));
        } else if (ctx.failure() != null) {
            fail(ctx, ctx.failure());
        } else {
            fail(ctx, new Refusal(Refusal.Code.INTERNAL, "internal error"));
        }
    }

    private void fail(RoutingContext ctx, Throwable t) {
        Refusal r;
        if (t instanceof Refusal refusal) {
            r = refusal;
            LOG.info("{} {} from {}: {} {}", ctx.request().method(), ctx.normalizedPath(), ctx.request().remoteAddress(),
                    r.code(), r.getMessage());
        } else {
            // The peer learns nothing of the cause; the log has all of it.
            LOG.error("{} {}: internal error", ctx.request().method(), ctx.normalizedPath(), t);
            r = new Refusal(Refusal.Code.INTERNAL, "internal error");
        }
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("code", r.code().name());
        err.put("message", r.getMessage());
        Map<String, Object> out = v1();
        out.put("error", err);
        respond(ctx, r.code().status, JsonCodec.encode(out));
    }

    private static void respond(RoutingContext ctx, int status, String json) {
        if (ctx.response().ended()) {
            return;
        }
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(json);
    }

    private static String clip(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return t.replaceAll("[^\\x20-\\x7e…]", "?");
    }
}
