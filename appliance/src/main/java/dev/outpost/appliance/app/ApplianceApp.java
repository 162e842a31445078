package dev.outpost.appliance.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.admin.AdminApi;
import dev.outpost.appliance.admin.AdminServer;
import dev.outpost.appliance.attest.AttestationService;
import dev.outpost.appliance.attest.Quarantine;
import dev.outpost.appliance.attest.Revocations;
import dev.outpost.appliance.attest.WebhookDelivery;
import dev.outpost.appliance.store.AttestationStore;
import dev.outpost.appliance.store.PolicyStore;
import java.util.concurrent.atomic.AtomicReference;
import dev.outpost.appliance.ca.CaFiles;
import dev.outpost.appliance.ca.CaKeys;
import dev.outpost.appliance.ca.JwtAuthority;
import dev.outpost.appliance.ca.JwtBundles;
import dev.outpost.appliance.ca.WorkloadSvidSigner;
import dev.outpost.appliance.workload.EntryAdmin;
import dev.outpost.appliance.workload.EntryRoutes;
import dev.outpost.appliance.workload.EntryStore;
import dev.outpost.appliance.workload.NodeSelectors;
import dev.outpost.appliance.workload.WorkloadService;
import dev.outpost.appliance.ca.CaInstaller;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.metrics.RotationMetrics;
import dev.outpost.appliance.federation.BundleEndpointServer;
import dev.outpost.appliance.directives.CentralBans;
import dev.outpost.appliance.directives.DirectiveApplier;
import dev.outpost.appliance.directives.DirectiveFollower;
import dev.outpost.appliance.upstream.BundleFollower;
import dev.outpost.appliance.outbox.OutboxSender;
import dev.outpost.appliance.outbox.OutboxService;
import dev.outpost.appliance.upstream.CentralAddresses;
import dev.outpost.appliance.upstream.UpstreamLink;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.enroll.EnrollmentService;
import dev.outpost.appliance.enroll.KnownDeviceIds;
import dev.outpost.appliance.metrics.ApplianceMetrics;
import dev.outpost.appliance.metrics.EndpointMetrics;
import dev.outpost.appliance.metrics.HealthChecks;
import dev.outpost.appliance.metrics.JvmMetrics;
import dev.outpost.appliance.metrics.MonitoringServer;
import dev.outpost.appliance.store.ActivationStore;
import dev.outpost.appliance.store.AllowListStore;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.BundleStore;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.OutboxHighWater;
import dev.outpost.appliance.store.SiteBackup;
import dev.outpost.appliance.store.SiteDirectory;
import dev.outpost.mqtt.endpoint.EndpointOptions;
import dev.outpost.mqtt.endpoint.DeviceChannel;
import dev.outpost.mqtt.endpoint.MqttEndpointServer;
import dev.outpost.mqtt.protocol.Topics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import dev.outpost.tpm.trust.EkTrust;
import dev.outpost.tpm.trust.EkTrustMode;
import dev.outpost.tpm.trust.ManufacturerCas;
import dev.outpost.appliance.timers.Periodic;

/**
 * The appliance as one process: store, CA, enrollment, the devices' MQTT endpoint, the admin socket and the
 * monitoring port, started in that order and stopped in reverse.
 */
public final class ApplianceApp {
    private static final Logger LOG = LoggerFactory.getLogger(ApplianceApp.class);

    private final ApplianceConfig config;
    private final Vertx vertx;
    private final Database db;
    private final DeviceChannel endpoint;
    private final MonitoringServer monitoring;
    private AdminServer admin;
    private AttestationService attestation;
    private CaRotation rotation;
    private UpstreamFollowers followers;
    private OutboxService outbox;
    private volatile dev.outpost.appliance.audit.TpmAnchor auditAnchor;
    private BundleEndpointServer bundleEndpoint;
    private SiteCa ca;
    private BundleStore bundles;
    private Runnable bundleChanged;
    private int mqttPort;
    private int metricsPort;
    private volatile boolean ready;
    private JvmMetrics jvmMetrics;

    private ApplianceApp(ApplianceConfig config, Vertx vertx, Database db, DeviceChannel endpoint,
            MonitoringServer monitoring) {
        this.config = config;
        this.vertx = vertx;
        this.db = db;
        this.endpoint = endpoint;
        this.monitoring = monitoring;
    }

    /** Starts everything; blocks until the listeners are up or one of them failed. */
    public static ApplianceApp start(ApplianceConfig config) throws Exception {
        return start(config, Clock.systemUTC());
    }

    /**
     * As {@link #start(ApplianceConfig)}, with every decision that depends on time (freshness, staleness, expiry of
     * challenges, activations and SVIDs, audit times) read from {@code clock}, so tests move time instead of sleeping.
     * Timers still run on the wall clock; what they decide, they decide by {@code clock}. Client certificates on the device
     * link are judged valid by {@code clock} too; the upstream link to central (and an external broker) use the JDK's.
     */
    public static ApplianceApp start(ApplianceConfig config, Clock clock) throws Exception {
        privateDir(config.dataDir());
        privateDir(config.runtimeDir());
        CaStartup caStartup = CaStartup.prepare(config, clock);
        CaKeys caKeys = caStartup.keys();
        CaFiles caFiles = caStartup.files();
        CentralAddresses central = caStartup.central();
        // Refuses a directory that lost its database or its CA while devices depend on them (see SiteDirectory).
        SiteDirectory siteDir = new SiteDirectory(config.dataDir(), config.caDir());
        Database db = siteDir.openForRun();
        db.outbox().bound(config.outbox().maxRows(), config.outbox().maxBytes());
        JvmMetrics jvmMetrics = null;
        try {
            // Before anything is appended: a database put back by hand is treated as restored (docs/upward-link.md).
            OutboxHighWater.checkAtStart(db, config.dataDir());
            DeviceStore devices = new DeviceStore(db, clock);
            AllowListStore allowList = new AllowListStore(db, clock);
            ActivationStore activations = new ActivationStore(db);
            AuditLog audit = new AuditLog(db);
            BundleStore bundles = new BundleStore(db, clock);
            SiteCa ca = config.ca().nested() ? SiteCa.load(config.caDir(), caKeys, config.trustDomain(), clock)
                    : SiteCa.loadOrCreate(config.caDir(), caKeys, config.trustDomain(), config.site(), config.ca().ttl(),
                            clock);
            AtomicReference<Runnable> onBundleChange = new AtomicReference<>(() -> { });
            // The bundle moved (a CA, a JWT key, central's roots): a new sequence, and the site bundle to every device.
            Runnable bundleMoved = () -> {
                bundles.bump();
                onBundleChange.get().run();
            };
            CaRotation rotation = new CaRotation(ca, caFiles, new CaInstaller(caFiles, config.trustDomain(), config.site(),
                    clock), NestedStart.signer(config, clock, central), clock, bundleMoved);
            // Before the endpoint is built: its client trust and the first retained bundle include a next or previous
            // CA already on disk.
            rotation.tick();
            siteDir.markRunning(config.trustDomain(), config.site(), ca.certificate(), clock.instant());
            SiteTimers.syncAllowDir(allowList, config.enrollment().allowListDir());
            EkTrust ekTrust = new EkTrust(EkTrustMode.valueOf(config.enrollment().ekTrust().name()), allowList::contains,
                    ManufacturerCas.load(config.enrollment().ekCaDir()), clock);
            ApplianceConfig.Attestation at = config.attestation();
            Topics topics = new Topics(config.mqtt().topicPrefix());
            Quarantine quarantine = Quarantine.load(devices);
            RevocationNotice revocationNotice = new RevocationNotice(topics, quarantine);
            WebhookDelivery webhook = WebhookStartup.open(at.webhook(), db, clock);
            Revocations revocations = new Revocations(ca, clock, revocationNotice, webhook).recordIn(db.outbox());
            // One PolicyStore: it caches what it reads and must see every write.
            PolicyStore policies = new PolicyStore(db, clock);
            KnownDeviceIds known = new KnownDeviceIds(devices, allowList);
            known.refresh();
            AttestationStore attestationStore = new AttestationStore(db);
            AttestationService attestation = new AttestationService(devices, attestationStore,
                    policies, audit, revocations, ComponentOptions.attestation(at), new SecureRandom(), clock, quarantine);
            EnrollmentService enrollment = new EnrollmentService(ekTrust, ca, devices, activations, audit,
                    new SecureRandom(), clock, config.enrollment().activationTtl(), config.ca().svidTtl(),
                    at.freshness(), attestation::freshPass, known);
            enrollment.requireTpmNodeKeys(config.enrollment().tpmNodeKeysRequired());
            CentralBans centralBans = new CentralBans(db);
            enrollment.refuseBanned(centralBans::reason);

            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            jvmMetrics = JvmMetrics.bind(registry);
            Vertx vertx = ComponentOptions.vertx(registry);
            EndpointOptions options = ComponentOptions.endpoint(config, ca, topics);
            // Workload identity (docs/workload-api.md): registration entries, workload SVIDs, the site's JWT authority.
            JwtAuthority jwtAuthority = JwtAuthority.loadOrCreate(config.caDir(), caKeys, clock);
            if (caFiles.next().isPresent()) {
                // A next CA prepared before this start: its JWT key is published with it.
                jwtAuthority.prepareNext();
            }
            JwtBundles jwtBundles = new JwtBundles(config.trustDomain(), jwtAuthority);
            EntryStore entryStore = new EntryStore(db, audit);
            NodeSelectors nodeSelectors = new NodeSelectors(policies, config.site());
            WorkloadService workloads = new WorkloadService(devices, nodeSelectors, entryStore, attestation::freshPass,
                    attestation::imaRefusal, new WorkloadSvidSigner(ca, clock), jwtAuthority, config.ca().svidTtl(),
                    audit, clock);
            RequestDispatcher dispatcher = new RequestDispatcher(vertx, enrollment, attestation, workloads,
                    ComponentOptions.EVIDENCE_CHUNK);
            DeviceChannel endpoint = config.mqtt().external()
                    ? BrokerConnection.client(config, ca, dispatcher, options, known)
                    // Failed and revoked devices are kept out at CONNECT, SVID or not, until an operator acts.
                    : new MqttEndpointServer(options, dispatcher, (deviceId, authenticated) -> !quarantine.holds(deviceId),
                            known, clock);
            revocationNotice.endpoint(endpoint);

            ApplianceMetrics metrics = new ApplianceMetrics(registry, db.dataSource(), ca, clock,
                    attestation::bufferedEvidenceBytes);
            attestation.observe(metrics);
            enrollment.observe(metrics);
            EndpointMetrics.bind(registry, endpoint.stats());
            AtomicReference<ApplianceApp> self = new AtomicReference<>();
            MonitoringServer monitoring = new MonitoringServer(registry, HealthChecks.appliance(
                    () -> self.get() != null && self.get().ready, db, ca, config.caDir(), clock, endpoint));
            ApplianceApp app = new ApplianceApp(config, vertx, db, endpoint, monitoring);
            app.jvmMetrics = jvmMetrics;
            self.set(app);
            app.mqttPort = await(endpoint.start(vertx));
            app.metricsPort = await(monitoring.start(vertx, config.metrics().host(), config.metrics().port()));
            AdminApi api = new AdminApi(vertx, devices, allowList, audit, bundles, ca, policies,
                    attestation, attestationStore, config.site(), clock, id -> {
                        quarantine.hold(id);
                        revocations.revoke(id, "revoked by operator");
                    });
            api.withCaRotation(rotation, config.ca().mode().yaml());
            api.withEntries(new EntryRoutes(vertx, new EntryAdmin(entryStore, devices, nodeSelectors,
                    config.trustDomain(), clock)));
            api.withJwtKeys(jwtAuthority::bundleKeys);
            app.withSiteFileRoutes(api, audit, clock);
            app.admin = await(AdminServer.start(vertx, api, app.adminSocket()));
            onBundleChange.set(new SiteBundlePublisher(config.trustDomain(), ca, bundles, jwtBundles, endpoint, topics));
            onBundleChange.get().run();
            ApplianceConfig.BundleEndpoint be = config.federation().bundleEndpoint();
            if (be.enabled()) {
                app.bundleEndpoint = await(BundleEndpointServer.start(vertx, be, ca, bundles::sequence,
                        jwtAuthority::bundleKeys, clock));
            }
            RotationEvents.wire(vertx, config, clock, rotation, ca, jwtAuthority, bundleMoved, db.outbox(), endpoint,
                    () -> app.bundleEndpoint);
            if (config.ca().nested() && config.upstream().online()) {
                // Central's directives: a ban revokes by the operator's path (quarantine, signed event, disconnect).
                DirectiveApplier applier = new DirectiveApplier(db, devices, policies, centralBans, audit, clock,
                        (id, reason) -> {
                            quarantine.hold(id);
                            revocations.revoke(id, reason);
                        });
                app.followers = UpstreamFollowers.start(vertx, config, clock, central, ca, jwtAuthority, jwtBundles,
                        bundleMoved, applier, registry);
            }
            RotationMetrics.bind(registry, rotation);
            SiteTimers.schedule(vertx, config, clock, db, allowList, known, attestation, audit);
            WebhookStartup.start(webhook, vertx, registry, api);
            metrics.start(vertx);
            app.anchorAuditEvery(clock);
            app.outbox = outbox(config, clock, db, central, ca).start(vertx, registry);
            if (central != null) {
                central.bind(registry);
            }
            api.withOutbox(() -> {
                java.util.Map<String, Object> m = app.outbox.status();
                if (central != null) {
                    m.put("upstream", central.status());
                }
                return m;
            });
            app.attestation = attestation;
            app.rotation = rotation;
            app.ca = ca;
            app.bundles = bundles;
            app.bundleChanged = onBundleChange.get();
            app.ready = true;
            LOG.info("appliance up: trust domain {}, MQTT on {}:{}, admin socket {}, metrics on {}:{}",
                    config.trustDomain(), config.mqtt().host(), app.mqttPort, app.adminSocket(), config.metrics().host(),
                    app.metricsPort);
            return app;
        } catch (Exception e) {
            if (jvmMetrics != null) {
                jvmMetrics.close();
            }
            db.close();
            throw e;
        }
    }

    // Backups, the audit chain's check against the TPM, and audit exports: what the admin socket reads of the site's
    // files.
    private void withSiteFileRoutes(AdminApi api, AuditLog audit, Clock clock) throws IOException {
        SiteBackup backup = new SiteBackup(db, config.dataDir(), config.caDir(), config.trustDomain(), config.site(),
                audit, clock);
        backup.removeLeftovers();
        api.withBackup(backup::archive);
        api.withAuditVerify(() -> verifyAudit().toMap());
        api.withAuditExport(since -> dev.outpost.appliance.audit.AuditExport.toFile(db, since, config.runtimeDir()));
    }

    // Every site writes its outbox; only a site linked to central sends it (docs/upward-link.md).
    private static OutboxService outbox(ApplianceConfig config, Clock clock, Database db, CentralAddresses central,
            SiteCa ca) {
        UpstreamLink link = config.ca().nested() && config.upstream().online()
                ? UpstreamLink.create(config, clock, central) : null;
        return new OutboxService(db, config.outbox(), link == null ? null : json -> {
            dev.outpost.appliance.upstream.SiteApiClient.Exchange x = link.postEvents(json);
            return new OutboxSender.Reply(x.status(), x.body());
        }, ca::notAfter, clock);
    }

    // The chain heads go into the gateway's TPM on a worker, never on the event loop (docs/operations.md).
    private void anchorAuditEvery(Clock clock) {
        if (!config.audit().tpm()) {
            LOG.info("audit chain kept; not anchored in a TPM (audit.anchor: none)");
            return;
        }
        auditAnchor = new dev.outpost.appliance.audit.TpmAnchor(db, config.upstream().tpm(), config.upstreamDir(),
                config.audit().nvIndex(), clock);
        Periodic.every(vertx, config.audit().anchorInterval(), "audit anchor", () -> {
            anchorAudit();
            return null;
        });
        LOG.info("audit chain anchored in the TPM every {} (NV index {})", config.audit().anchorInterval(),
                config.audit().anchorNvIndex());
    }

    private static void privateDir(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    public int mqttPort() {
        return mqttPort;
    }

    public int metricsPort() {
        return metricsPort;
    }

    public Path adminSocket() {
        return config.admin().socket();
    }

    public boolean ready() {
        return ready;
    }

    /** The CA rotation, for tests that move the clock and want the rule applied now rather than at the next timer. */
    /** The port of the site's SPIFFE bundle endpoint, or -1 when it is not served. */
    public int bundleEndpointPort() {
        return bundleEndpoint == null ? -1 : bundleEndpoint.port();
    }

    /** Follows central's directives (a nested site with a link only); tests poll it instead of waiting. */
    public java.util.Optional<DirectiveFollower> directiveFollower() {
        return java.util.Optional.ofNullable(followers).map(f -> f.directives);
    }

    /** Follows central's bundle (a nested site with a link only); tests poll it instead of waiting minutes. */
    public java.util.Optional<BundleFollower> bundleFollower() {
        return java.util.Optional.ofNullable(followers).map(f -> f.bundle);
    }

    /**
     * Hands devices these federated trust domains' roots: when they differ from the ones published, the sequence moves
     * and the site bundle goes to every connection, as when the upstream {@link BundleFollower} finds central's
     * bundle changed (the same calls, without the fetch). For a site without a link to central: the load generator's
     * bundle-change scenario measures the fan-out through it. On a linked site the follower's next change replaces
     * what was set here.
     *
     * @return the sequence published, or empty when the roots were those already published
     */
    public synchronized java.util.OptionalLong publishFederated(
            java.util.Map<String, List<java.security.cert.X509Certificate>> roots) {
        if (roots.equals(ca.federated())) {
            return java.util.OptionalLong.empty();
        }
        ca.publishFederated(roots);
        long sequence = bundles.bump();
        bundleChanged.run();
        return java.util.OptionalLong.of(sequence);
    }

    /** The outbox toward central; tests send now instead of waiting for the tick or a back-off. */
    public OutboxService outbox() {
        return outbox;
    }

    public CaRotation caRotation() {
        return rotation;
    }

    /** One anchor of the audit chain heads (audit.anchor: tpm); a failure is logged, the appliance goes on. */
    void anchorAudit() {
        if (auditAnchor == null) {
            return;
        }
        try {
            auditAnchor.anchor();
        } catch (RuntimeException e) {
            LOG.error("audit anchor failed: {}", e.getMessage());
        }
    }

    /** The site's database, for in-process tests that must reach it while the appliance holds it. */
    public Database database() {
        return db;
    }

    // With a TPM anchor: against the index's value now, under the anchor's lock (TpmAnchor.verifyNow).
    dev.outpost.appliance.audit.AuditVerifier.Report verifyAudit() throws IOException {
        byte[] ak = dev.outpost.appliance.audit.AuditVerifier.gatewayAk(config.upstreamDir());
        dev.outpost.appliance.audit.TpmAnchor anchor = auditAnchor;
        return anchor != null ? anchor.verifyNow(ak) : dev.outpost.appliance.audit.AuditVerifier.verify(db, false, null, ak);
    }

    /** Stops listeners, then the store. Safe to call twice. */
    public void stop() {
        ready = false;
        try {
            await(endpoint.close());
            if (bundleEndpoint != null) {
                await(bundleEndpoint.close());
            }
            if (admin != null) {
                await(admin.close());
            }
            await(monitoring.close());
            if (jvmMetrics != null) {
                jvmMetrics.close();
            }
            await(vertx.close());
        } catch (Exception e) {
            LOG.warn("shutdown: {}", e.getMessage());
        } finally {
            if (attestation != null) {
                try {
                    LOG.info("wrote {} routine attestation passes at shutdown", attestation.flush());
                } catch (RuntimeException e) {
                    LOG.warn("routine passes not written at shutdown: {}", e.getMessage());
                }
            }
            // the last records of this run anchored too, so a cut of them shows against the TPM
            anchorAudit();
            try {
                OutboxHighWater.record(db, config.dataDir());
            } catch (RuntimeException e) {
                LOG.warn("outbox high-water mark not recorded at shutdown: {}", e.getMessage());
            }
            db.close();
        }
    }
}
