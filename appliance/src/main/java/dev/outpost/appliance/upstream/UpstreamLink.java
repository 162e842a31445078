package dev.outpost.appliance.upstream;

import java.io.IOException;
import java.net.URI;
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

    private final ApplianceConfig config;
    private final Clock clock;
    private final SiteCredential credential;

    private UpstreamLink(ApplianceConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.credential = new SiteCredential(config.upstreamDir());
    }

    public static UpstreamLink create(ApplianceConfig config, Clock clock) {
        if (!config.upstream().online()) {
            throw new IllegalArgumentException("no upstream.url configured");
        }
        return new UpstreamLink(config, clock);
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
                return "central (" + config.upstream().url() + ")";
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
                LOG.warn("not ready: no site CA yet, central not reachable ({}); retrying in {}", e.getMessage(), wait);
                status.accept("no site CA yet: " + e.getMessage() + "; retrying at "
                        + clock.instant().plus(wait));
            } catch (IOException | GeneralSecurityException e) {
                throw new CaException("cannot get the site CA from central: " + e.getMessage(), e);
            }
            Thread.sleep(wait.toMillis());
            Duration d = wait.multipliedBy(2);
            wait = d.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : d;
        }
    }

    /** POST /v1/site/ca for {@code csrPem}, asking for {@code ca.ttl}. */
    SiteApiMessages.SignedCa signCa(String csrPem) throws UpstreamException, IOException, GeneralSecurityException {
        SiteCredential.Held held = ensureCredential();
        byte[] body = client(held).post("/v1/site/ca", SiteApiMessages.signCa(csrPem, config.ca().ttl().toSeconds()));
        return SiteApiMessages.signedCa(body);
    }

    /** GET /v1/site/bundle; empty when central says nothing moved since {@code knownSequence}. */
    public Optional<SiteApiMessages.Bundles> bundles(Long knownSequence)
            throws UpstreamException, IOException, GeneralSecurityException {
        SiteCredential.Held held = ensureCredential();
        Optional<byte[]> body = client(held).get("/v1/site/bundle", knownSequence);
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
        return client(ensureCredential()).get("/v1/site/directives?after=" + after, null).orElseThrow();
    }

    /**
     * One process-wide lock over the credential files: the rotation signer, the bundle follower and the directive
     * follower each hold a link of their own, and two joins or renewals at once could pair one's key with the other's
     * certificate.
     */
    private static final Object CREDENTIAL_FILES = new Object();

    /** POST /v1/site/events (docs/upward-link.md "Store and forward"): central's status and body, 409 included. */
    public SiteApiClient.Exchange postEvents(String json) throws UpstreamException, IOException, GeneralSecurityException {
        return client(ensureCredential()).exchange("/v1/site/events", json);
    }

    /** {@code POST /v1/site/jwt-authorities}: the site's JWT authority public keys, a JWKS document. */
    public SiteApiClient.Exchange postJwtAuthorities(String jwks) throws UpstreamException, IOException, GeneralSecurityException {
        return client(ensureCredential()).exchange("/v1/site/jwt-authorities", jwks);
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
                byte[] body = client(held.get()).post("/v1/site/credential",
                        SiteApiMessages.renewCredential(SiteCredential.csr(key, config.site())));
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
        ApplianceConfig.Upstream u = config.upstream();
        KeyPair key = SiteCredential.newKey();
        String csr = SiteCredential.csr(key, config.site());
        SiteApiClient anonymous = client(null);
        byte[] body;
        if (u.join() == ApplianceConfig.JoinMethod.TOKEN) {
            LOG.info("joining central {} as site {} with a join token", u.url(), config.site());
            body = anonymous.post("/v1/join/token", SiteApiMessages.joinToken(config.site(), token(u), csr));
        } else {
            TpmJoin tpm = new TpmJoin(u.tpm(), config.upstreamDir());
            Files.createDirectories(config.upstreamDir());
            TpmJoin.Presented p = tpm.present();
            LOG.info("joining central {} as site {} with this gateway's TPM (EK {})", u.url(), config.site(), p.ekHash());
            SiteApiMessages.JoinChallenge ch = SiteApiMessages.joinChallenge(anonymous.post("/v1/join/tpm/begin",
                    SiteApiMessages.joinTpmBegin(config.site(), p.ekPublic(), p.ekCertificate(), p.akPublic())));
            byte[] secret;
            try {
                secret = tpm.activate(ch.credentialBlob(), ch.encryptedSecret());
            } catch (TpmFormatException e) {
                throw new UpstreamException(0, null, "central's credential is unusable: " + e.getMessage());
            }
            body = anonymous.post("/v1/join/tpm/finish", SiteApiMessages.joinTpmFinish(ch.joinId(), secret, csr));
        }
        SiteApiMessages.Joined joined = SiteApiMessages.joined(body);
        if (!config.site().equals(joined.site())) {
            throw new UpstreamException(0, null, "central joined us as site '" + joined.site() + "', we are '"
                    + config.site() + "'");
        }
        SiteCredential.Held held = credential.store(key, joined.credential(), config.trustDomain(), config.site(),
                clock.instant());
        LOG.info("joined central as site {}; credential valid until {}", config.site(),
                held.certificate().getNotAfter().toInstant());
        return held;
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

    private SiteApiClient client(SiteCredential.Held held) throws IOException, GeneralSecurityException {
        List<X509Certificate> roots = PemIo.certificates(new String(KeyFiles.readLimited(config.upstream().caFile(),
                64 * 1024), StandardCharsets.US_ASCII), 8);
        PrivateKey key = held == null ? null : held.key();
        return new SiteApiClient(URI.create(config.upstream().url()), roots, key, held == null ? null : held.chain());
    }

    /** The public half of the pending CA key (for callers that hold only the private key). */
    static java.security.PublicKey publicOf(PrivateKey key) throws GeneralSecurityException {
        return CaCsr.publicOf(key);
    }
}
