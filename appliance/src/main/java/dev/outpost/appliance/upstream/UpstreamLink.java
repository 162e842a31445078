package dev.outpost.appliance.upstream;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.ca.CaCsr;
import dev.outpost.appliance.ca.CaException;
import dev.outpost.appliance.ca.CaFiles;
import dev.outpost.appliance.ca.CaInstaller;
import dev.outpost.appliance.ca.NextCaSigner;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.spiffe.KeyFiles;
import dev.outpost.spiffe.PemIo;
import dev.outpost.tpm.wire.TpmFormatException;

/**
 * The site's side of the upward link (docs/upward-link.md): join once (TPM or token), then, with the site credential
 * as client certificate, have site CAs signed, renew the credential past half its life and fetch the trust domain's
 * bundle. Blocking throughout: call on a worker (or at start, before anything serves).
 */
public final class UpstreamLink {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamLink.class);
    private static final Duration FIRST_RETRY = Duration.ofSeconds(10);
    private static final Duration MAX_RETRY = Duration.ofMinutes(10);
    private static final int MAX_TOKEN_BYTES = 1024;
    /**
     * The join's deadline: at least this, whatever {@code upstream.requestTimeout} says. A join whose answer is lost is
     * repeated with the same key ({@link SiteCredential#joinKey}), which central answers again; the longer wait only
     * spares that round trip on a slow link.
     */
    static final Duration JOIN_TIMEOUT = Duration.ofSeconds(60);

    private final ApplianceConfig config;
    private final Clock clock;
    private final SiteCredential credential;
    private final CentralAddresses addresses;
    /** One HTTP client per address and credential: kept so that its connections (and TLS sessions) are reused. */
    private final java.util.Map<String, SiteApiClient> clients = new java.util.concurrent.ConcurrentHashMap<>();

    private UpstreamLink(ApplianceConfig config, Clock clock, CentralAddresses addresses) {
        this.config = config;
        this.clock = clock;
        this.credential = new SiteCredential(config.upstreamDir());
        this.addresses = addresses;
    }

    /** A link with addresses of its own (a one-off caller: start-up, a CLI). */
    public static UpstreamLink create(ApplianceConfig config, Clock clock) {
        if (!config.upstream().online()) {
            throw new IllegalArgumentException("no upstream.url configured");
        }
        return create(config, clock, new CentralAddresses(config.upstream().addresses()));
    }

    /** A link sharing {@code addresses} (and what they learnt about which central answers) with other links. */
    public static UpstreamLink create(ApplianceConfig config, Clock clock, CentralAddresses addresses) {
        if (!config.upstream().online()) {
            throw new IllegalArgumentException("no upstream.url configured");
        }
        return new UpstreamLink(config, clock, addresses);
    }

    public CentralAddresses addresses() {
        return addresses;
    }

    /** One call to one address; failed over by {@link #call}. */
    @FunctionalInterface
    private interface Attempt<T> {
        T on(SiteApiClient client) throws UpstreamException, IOException, GeneralSecurityException;
    }

    /**
     * Tries {@code attempt} on the current address and, when it cannot be reached, times out or answers 5xx, on the
     * next ones: one round (docs/upward-link.md "Failover"). A refusal (4xx, 429 included: that central is up and
     * says no) ends the round at once: another instance over the same database would say the same. After a round
     * the last failure is thrown; the caller backs off (with jitter) before the next round.
     */
    private <T> T call(SiteCredential.Held held, Attempt<T> attempt) throws UpstreamException, IOException,
            GeneralSecurityException {
        UpstreamException last = null;
        for (int i : addresses.round()) {
            try {
                T result = attempt.on(client(held, i));
                addresses.answered(i);
                return result;
            } catch (UpstreamException e) {
                if (!failsOver(e)) {
                    addresses.answered(i);
                    throw e;
                }
                if (addresses.all().size() > 1) {
                    LOG.debug("central at {} failed ({}); trying the next address", addresses.all().get(i), e.getMessage());
                }
                last = e;
            }
        }
        throw last;
    }

    private static boolean failsOver(UpstreamException e) {
        return e.status() == 0 || e.status() >= 500;
    }

    /** Rotation's signer: POST /v1/site/ca with the site credential (joining first if the site never did). */
    public NextCaSigner caSigner() {
        return new NextCaSigner() {
            @Override
            public Signed sign(KeyPair key, String csrPem) throws Exception {
                SiteApiMessages.SignedCa s = signCa(csrPem);
                return new Signed(s.certificatePem(), s.chainPem());
            }

            @Override
            public String describe() {
                return "central (" + addresses.current() + ")";
            }
        };
    }

    /**
     * First start of a nested site without a CA: join if needed, have the pending key signed, install the result as
     * the active CA. Keeps trying with back-off while central is unreachable; a refusal (4xx) ends the start with
     * central's reason, since retrying the same request would be refused the same way.
     */
    public void bootstrap(CaFiles files, java.util.function.Consumer<String> status) throws InterruptedException {
        CaInstaller installer = new CaInstaller(files, config.trustDomain(), config.site(), clock);
        Duration wait = FIRST_RETRY;
        Duration jittered = wait;
        while (true) {
            try {
                String csr = installer.csr(false);
                SiteApiMessages.SignedCa s = signCa(csr);
                installer.install(s.certificatePem(), s.chainPem(), false);
                LOG.info("site CA signed by central and installed, valid until {}", s.notAfter());
                return;
            } catch (UpstreamException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException("start-up interrupted while waiting for central");
                }
                if (!e.transientFailure()) {
                    throw new CaException("central refused this site: " + e.getMessage());
                }
                // Jitter (half to all of the step): sites cut off together do not all come back in the same second.
                jittered = Duration.ofMillis(wait.toMillis() / 2
                        + java.util.concurrent.ThreadLocalRandom.current().nextLong(wait.toMillis() / 2 + 1));
                LOG.warn("not ready: no site CA yet, central not reachable ({}); retrying in {}", e.getMessage(), jittered);
                status.accept("no site CA yet: " + e.getMessage() + "; retrying at "
                        + clock.instant().plus(jittered));
            } catch (IOException | GeneralSecurityException e) {
                throw new CaException("cannot get the site CA from central: " + e.getMessage(), e);
            }
            Thread.sleep(jittered.toMillis());
            Duration d = wait.multipliedBy(2);
            wait = d.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : d;
        }
    }

    /** POST /v1/site/ca for {@code csrPem}, asking for {@code ca.ttl}. */
    SiteApiMessages.SignedCa signCa(String csrPem) throws UpstreamException, IOException, GeneralSecurityException {
        SiteCredential.Held held = ensureCredential();
        String json = SiteApiMessages.signCa(csrPem, config.ca().ttl().toSeconds());
        byte[] body = call(held, c -> c.post("/v1/site/ca", json));
        return SiteApiMessages.signedCa(body);
    }

    /** GET /v1/site/bundle; empty when central says nothing moved since {@code knownSequence}. */
    public Optional<SiteApiMessages.Bundles> bundles(Long knownSequence)
            throws UpstreamException, IOException, GeneralSecurityException {
        SiteCredential.Held held = ensureCredential();
        Optional<byte[]> body = call(held, c -> c.get("/v1/site/bundle", knownSequence));
        if (body.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(SiteApiMessages.bundles(body.get()));
    }

    /** GET /v1/site/directives?after=V: the raw answer (parsed strictly by directives.DirectiveMessages). */
    public byte[] directives(long after) throws UpstreamException, IOException, GeneralSecurityException {
        if (after < 0) {
            throw new IllegalArgumentException("after must be non-negative");
        }
        return call(ensureCredential(), c -> c.get("/v1/site/directives?after=" + after, null).orElseThrow());
    }

    /**
     * One process-wide lock over the credential files: the rotation signer, the bundle follower and the directive
     * follower each hold a link of their own, and two joins or renewals at once could pair one's key with the other's
     * certificate.
     */
    private static final Object CREDENTIAL_FILES = new Object();

    /** POST /v1/site/events (docs/upward-link.md "Store and forward"): central's status and body, 409 included. */
    public SiteApiClient.Exchange postEvents(String json) throws UpstreamException, IOException, GeneralSecurityException {
        return call(ensureCredential(), c -> {
            SiteApiClient.Exchange x = c.exchange("/v1/site/events", json);
            if (x.status() >= 500) {
                // Central's own trouble (its database, say): another instance may do better.
                throw new UpstreamException(x.status(), SiteApiMessages.errorCode(x.body()), "central failed the events ("
                        + x.status() + " at " + c.base() + ")");
            }
            return x;
        });
    }

    /** {@code POST /v1/site/jwt-authorities}: the site's JWT authority public keys, a JWKS document. */
    public SiteApiClient.Exchange postJwtAuthorities(String jwks) throws UpstreamException, IOException, GeneralSecurityException {
        return call(ensureCredential(), c -> {
            SiteApiClient.Exchange x = c.exchange("/v1/site/jwt-authorities", jwks);
            if (x.status() >= 500) {
                throw new UpstreamException(x.status(), SiteApiMessages.errorCode(x.body()), "central failed the JWT "
                        + "authorities (" + x.status() + " at " + c.base() + ")");
            }
            return x;
        });
    }

    /** The credential, joining first when there is none and renewing it past half its life. */
    SiteCredential.Held ensureCredential() throws UpstreamException, IOException, GeneralSecurityException {
        synchronized (CREDENTIAL_FILES) {
            return ensureCredentialLocked();
        }
    }

    private SiteCredential.Held ensureCredentialLocked() throws UpstreamException, IOException, GeneralSecurityException {
        Optional<SiteCredential.Held> held = credential.load();
        if (held.isEmpty()) {
            return join();
        }
        if (held.get().dueForRenewal(clock.instant())) {
            try {
                KeyPair key = SiteCredential.newKey();
                String json = SiteApiMessages.renewCredential(SiteCredential.csr(key, config.site()));
                byte[] body = call(held.get(), c -> c.post("/v1/site/credential", json));
                SiteCredential.Held renewed = credential.store(key, SiteApiMessages.credential(body),
                        config.trustDomain(), config.site(), clock.instant());
                LOG.info("site credential renewed, valid until {}", renewed.certificate().getNotAfter().toInstant());
                return renewed;
            } catch (UpstreamException e) {
                // The old credential still works until it expires: go on with it and renew next time.
                LOG.warn("site credential renewal failed ({}); using the current one until {}", e.getMessage(),
                        held.get().certificate().getNotAfter().toInstant());
            }
        }
        return held.get();
    }

    private SiteCredential.Held join() throws UpstreamException, IOException, GeneralSecurityException {
        KeyPair key = credential.joinKey();
        String csr = SiteCredential.csr(key, config.site());
        // Both TPM steps go to one address: the join record lives in that central's database.
        byte[] body = call(null, anonymous -> joinBody(anonymous, csr));
        SiteApiMessages.Joined joined = SiteApiMessages.joined(body);
        if (!config.site().equals(joined.site())) {
            throw new UpstreamException(0, null, "central joined us as site '" + joined.site() + "', we are '"
                    + config.site() + "'");
        }
        SiteCredential.Held held = credential.store(key, joined.credential(), config.trustDomain(), config.site(),
                clock.instant());
        credential.joined();
        LOG.info("joined central as site {}; credential valid until {}", config.site(),
                held.certificate().getNotAfter().toInstant());
        return held;
    }

    private byte[] joinBody(SiteApiClient anonymous, String csr) throws UpstreamException, IOException,
            GeneralSecurityException {
        ApplianceConfig.Upstream u = config.upstream();
        Duration wait = u.requestTimeout().compareTo(JOIN_TIMEOUT) > 0 ? u.requestTimeout() : JOIN_TIMEOUT;
        byte[] body;
        if (u.join() == ApplianceConfig.JoinMethod.TOKEN) {
            LOG.info("joining central {} as site {} with a join token", anonymous.base(), config.site());
            body = anonymous.post("/v1/join/token", SiteApiMessages.joinToken(config.site(), token(u), csr), wait);
        } else {
            TpmJoin tpm = new TpmJoin(u.tpm(), config.upstreamDir());
            Files.createDirectories(config.upstreamDir());
            TpmJoin.Presented p = tpm.present();
            LOG.info("joining central {} as site {} with this gateway's TPM (EK {})", anonymous.base(), config.site(), p.ekHash());
            SiteApiMessages.JoinChallenge ch = SiteApiMessages.joinChallenge(anonymous.post("/v1/join/tpm/begin",
                    SiteApiMessages.joinTpmBegin(config.site(), p.ekPublic(), p.ekCertificate(), p.akPublic()), wait));
            byte[] secret;
            try {
                secret = tpm.activate(ch.credentialBlob(), ch.encryptedSecret());
            } catch (TpmFormatException e) {
                throw new UpstreamException(0, null, "central's credential is unusable: " + e.getMessage());
            }
            body = anonymous.post("/v1/join/tpm/finish", SiteApiMessages.joinTpmFinish(ch.joinId(), secret, csr), wait);
        }
        return body;
    }

    private static String token(ApplianceConfig.Upstream u) throws IOException {
        if (u.token() != null) {
            return u.token();
        }
        String t = new String(KeyFiles.readPrivate(u.tokenFile(), MAX_TOKEN_BYTES), StandardCharsets.UTF_8).strip();
        if (t.isEmpty()) {
            throw new IOException(u.tokenFile() + " is empty");
        }
        return t;
    }

    private SiteApiClient client(SiteCredential.Held held, int index) throws IOException, GeneralSecurityException {
        String key = index + "|" + (held == null ? "-" : held.certificate().getSerialNumber().toString(16));
        SiteApiClient c = clients.get(key);
        if (c != null) {
            return c;
        }
        List<X509Certificate> roots = PemIo.certificates(new String(KeyFiles.readLimited(config.upstream().caFile(),
                64 * 1024), StandardCharsets.US_ASCII), 8);
        ApplianceConfig.Upstream u = config.upstream();
        c = new SiteApiClient(addresses.all().get(index), roots, held == null ? null : held.key(),
                held == null ? null : held.chain(), u.connectTimeout(), u.requestTimeout());
        if (held != null) {
            // A renewed credential replaces the clients of the old one.
            clients.keySet().removeIf(k -> k.startsWith(index + "|") && !k.endsWith("|-"));
            clients.put(key, c);
        }
        return c;
    }

    /** The public half of the pending CA key (for callers that hold only the private key). */
    static java.security.PublicKey publicOf(PrivateKey key) throws GeneralSecurityException {
        return CaCsr.publicOf(key);
    }
}
