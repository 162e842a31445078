package dev.outpost.agent.run;

import java.io.IOException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.X509TrustManager;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.packet.MqttReturnCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.attest.Attester;
import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.enroll.Enroller;
import dev.outpost.agent.enroll.NodeKeys;
import dev.outpost.agent.enroll.Resumer;
import dev.outpost.agent.mqtt.Addressing;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.agent.trust.BundleFollower;
import dev.outpost.agent.workload.ApplianceIssuer;
import dev.outpost.agent.workload.StateTrustBundles;
import dev.outpost.agent.workload.WorkloadApi;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.EkTemplate;

/**
 * The agent's life: enroll when it has no valid SVID, then stay connected with mTLS and renew the SVID after
 * {@code renewFraction} of its lifetime; on any failure back off with jitter and try again. While the appliance
 * is away the SVID and bundle on disk keep serving the device's workloads until they expire.
 */
public final class AgentDaemon implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentDaemon.class);

    private final AgentConfig config;
    private final AgentState state;
    private final DeviceTpm tpm;
    private final NodeKeys nodeKeys;
    private final Codec codec = new Codec();
    private final Topics topics;
    private final Clock clock;
    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60));
    private final CountDownLatch stop = new CountDownLatch(1);
    // Completed by wake(): ends the current wait early (then replaced by a fresh one).
    private volatile CompletableFuture<Void> wake = new CompletableFuture<>();
    private volatile Instant lastVerdictAt;
    private volatile ApplianceClient current;
    private volatile String status = "starting";
    private volatile String verdict;
    // The Workload API, started with the first node identity when enabled (it needs the trust domain); null when off.
    private volatile WorkloadApi workloadApi;
    private boolean workloadApiFailed;
    // Whether an expired identity on disk is worth a resume; false once the appliance said it does not know us.
    private boolean resumable = true;
    // Attest a little before the appliance's deadline, and never in a tight loop.
    private static final long DUE_MARGIN_MS = 5_000;
    private static final long MIN_GAP_MS = 1_000;

    public AgentDaemon(AgentConfig config, Clock clock) {
        this.config = config;
        this.tpm = new DeviceTpm(config.tpm(), EkTemplate.parse(config.ek()), AkTemplate.parse(config.ak()),
                config.stateDir());
        this.state = new AgentState(config.stateDir(), tpm::sign);
        this.nodeKeys = new NodeKeys(tpm, config.softwareNodeKey(), config.nodeKeyTemplate());
        this.topics = new Topics(config.topicPrefix());
        this.clock = clock;
    }

    /** A short word on what the agent is doing, for logs and tests. */
    public String status() {
        return status;
    }

    @Override
    public void run() {
        DeviceTpm.Endorsed ek = null;
        while (stop.getCount() > 0) {
            try {
                if (ek == null) {
                    ek = tpm.endorsement();
                    LOG.info("device id {}", ek.deviceId());
                }
                java.util.Optional<NodeIdentity> held = state.identity();
                // Up from the start when the device was enrolled before: a workload asking while the appliance is
                // away gets the standard answer (Unavailable), not a refused connection.
                held.ifPresent(this::workloadApi);
                NodeIdentity id = held.filter(i -> i.validAt(clock.instant())).orElse(null);
                if (id == null) {
                    WorkloadApi api = workloadApi;
                    if (api != null) {
                        // No node SVID, no workload SVIDs: what is held goes now, not at its own expiry.
                        api.nodeIdentityLost(held.isPresent() ? "the node SVID has expired" : "the node is not enrolled");
                    }
                    // Enrolled before (an expired SVID is on disk): prove the TPM with the enrolled AK instead of
                    // enrolling again, unless the appliance no longer knows the device.
                    if (held.isPresent() && resumable) {
                        status = "resuming";
                        resumable = resume(ek);
                        continue;
                    }
                    status = "enrolling";
                    enroll(ek);
                    resumable = true;
                    continue;
                }
                status = "connecting";
                connectedUntilRenewal(ek.deviceId(), id);
                backoff.reset();
            } catch (ProtocolException e) {
                LOG.warn("appliance refused: {} {}", e.code(), e.getMessage());
                status = "refused: " + e.code();
                WorkloadApi api = workloadApi;
                if (api != null && (e.code() == ErrorCode.REVOKED || e.code() == ErrorCode.NOT_ENROLLED
                        || e.code() == ErrorCode.ATTESTATION_FAILED || e.code() == ErrorCode.NOT_TRUSTED)) {
                    // The appliance no longer vouches for this node: its workloads lose their identities now.
                    api.nodeIdentityLost("the appliance refused the node: " + e.code());
                }
                if (e.retryAfterMs() > 0) {
                    // The appliance said when (it is busy, or rate-limits us): that, not our own backoff.
                    LOG.info("the appliance asks to retry in {} ms", e.retryAfterMs());
                    sleep(e.retryAfterMs());
                } else {
                    pause();
                }
            } catch (MqttException e) {
                LOG.warn("{}: {}", status, e.getMessage());
                WorkloadApi api = workloadApi;
                if (api != null && "connecting".equals(status) && refusedAtConnect(e)) {
                    // Refused at CONNECT with a node SVID still within its dates: the appliance keeps failed and
                    // revoked devices out there, and no verdict may have reached us (revoked while we were away, a
                    // verdict lost with the link). It no longer vouches for the node: its workloads' identities go
                    // now, not when they expire. The next trusted verdict brings them back.
                    api.nodeIdentityLost("the appliance refused the node's connection (reason code "
                            + e.getReasonCode() + ")");
                }
                pause();
            } catch (IOException | TimeoutException | GeneralSecurityException | RuntimeException e) {
                LOG.warn("{}: {}", status, e.getMessage());
                pause();
            }
        }
        WorkloadApi api = workloadApi;
        if (api != null) {
            api.close();
            workloadApi = null;
        }
        status = "stopped";
    }

    /** @return false when the appliance does not know the device (enroll instead); throws on other refusals */
    private boolean resume(DeviceTpm.Endorsed ek) throws IOException, MqttException, TimeoutException,
            GeneralSecurityException, ProtocolException {
        try (ApplianceClient c = client(config.appliance().enrollmentPort(), config.appliance().viaBroker()
                ? Addressing.brokerEnrollment(topics, ek.deviceId()) : Addressing.endpoint(topics, ek.deviceId()))) {
            c.connect(TlsContexts.context(bootstrapTrust(), null));
            Enroller.Enrolled e = new Resumer(tpm, nodeKeys).resume(c, ek.deviceId());
            state.save(e.nodeKey().getPrivate(), e.svid().svidPem(), e.svid().bundlePem());
        } catch (ProtocolException e) {
            if (e.code() == ErrorCode.NOT_ENROLLED) {
                LOG.info("the appliance does not know this device any more: enrolling");
                return false;
            }
            throw e;
        }
        backoff.reset();
        return true;
    }

    private void enroll(DeviceTpm.Endorsed ek) throws IOException, MqttException, TimeoutException,
            GeneralSecurityException, ProtocolException {
        try (ApplianceClient c = client(config.appliance().enrollmentPort(), config.appliance().viaBroker()
                ? Addressing.brokerEnrollment(topics, ek.deviceId()) : Addressing.endpoint(topics, ek.deviceId()))) {
            c.connect(TlsContexts.context(bootstrapTrust(), null));
            Enroller.Enrolled e = new Enroller(tpm, nodeKeys).enroll(c, ek);
            state.save(e.nodeKey().getPrivate(), e.svid().svidPem(), e.svid().bundlePem());
        }
        backoff.reset();
    }

    // Connected with the SVID: attest as often as the appliance asks, renewing the SVID through a passing
    // attestation after renewFraction of its lifetime; return to reconnect with a new SVID or after a drop.
    private void connectedUntilRenewal(String deviceId, NodeIdentity id) throws IOException, MqttException,
            TimeoutException, GeneralSecurityException, ProtocolException {
        try (ApplianceClient c = client(config.appliance().port(), config.appliance().viaBroker()
                ? Addressing.brokerWithSvid(topics, deviceId) : Addressing.endpoint(topics, deviceId))) {
            c.connect(TlsContexts.context(TlsContexts.trusting(id.bundle(), clock), id));
            current = c;
            WorkloadApi api = workloadApi(id);
            c.followSiteBundle(new BundleFollower(state, BundleFollower.trustDomainOf(id.spiffeId()),
                    api == null ? () -> { } : api::bundlesChanged)::accept);
            status = "connected";
            LOG.info("connected as {}; SVID valid until {}", id.spiffeId(), id.notAfter());
            backoff.reset();
            if (api != null) {
                api.onConnected();
            }
            Attester attester = new Attester(tpm, config.imaLog(), config.bootLog());
            KeyPair unused = null;
            while (stop.getCount() > 0 && !c.lost().isDone()) {
                boolean renew = id.probationary() || !clock.instant().isBefore(id.renewAt(config.renewFraction()));
                // A new node key for every SVID (in the TPM unless configured otherwise); the previous key's blob is
                // replaced when the new SVID is saved. A key no SVID was issued for yet (a pending verdict) is offered
                // again with the next evidence, certified over that challenge's nonce, rather than made anew.
                if (renew && unused == null) {
                    unused = nodeKeys.newKey();
                }
                KeyPair key = renew ? unused : null;
                Verdict v = attester.attest(c, key == null ? null : NodeKeys.csr(key, deviceId),
                        key == null ? null : nonce -> nodeKeys.certify(key, nonce));
                verdict = v.state();
                lastVerdictAt = clock.instant();
                if (api != null) {
                    api.onVerdict(v);
                }
                if (v.svid() != null && key != null) {
                    state.save(key.getPrivate(), v.svid().svidPem(), v.svid().bundlePem());
                    LOG.info("SVID renewed with a passing attestation, valid until {}",
                            Instant.ofEpochMilli(v.svid().expiresAt()));
                    return;
                }
                long toDue = v.nextDueAt() - clock.millis();
                long untilDue = toDue - Math.min(DUE_MARGIN_MS, toDue / 4);
                long untilRenew = Duration.between(clock.instant(), id.renewAt(config.renewFraction())).toMillis();
                boolean again = v.reasons().stream().anyMatch(r -> r.startsWith("tpm.reboot"));
                long waitMs = again ? 200 : Math.max(MIN_GAP_MS, renew ? untilDue : Math.min(untilDue, untilRenew));
                try {
                    CompletableFuture.anyOf(c.lost(), wake).get(waitMs, TimeUnit.MILLISECONDS);
                    if (!c.lost().isDone()) {
                        wake = new CompletableFuture<>();
                        continue;
                    }
                } catch (java.util.concurrent.TimeoutException next) {
                    continue;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (java.util.concurrent.ExecutionException e) {
                    return;
                }
            }
            if (stop.getCount() > 0) {
                LOG.warn("connection lost: {}", c.lost().getNow("?"));
                pause();
            }
        } finally {
            current = null;
        }
    }

    /**
     * The Workload API when enabled, started on first use; a failure to start (no epoll on this platform, something
     * else at the socket path) is logged once and the agent runs on without it: node attestation does not depend on it.
     */
    private WorkloadApi workloadApi(NodeIdentity id) {
        AgentConfig.WorkloadApi wc = config.workloadApi();
        if (workloadApi != null || workloadApiFailed || wc == null || !wc.on()) {
            return workloadApi;
        }
        try {
            WorkloadApi.Settings s = WorkloadApi.Settings.defaults(wc.socket(), config.imaLog(),
                    wc.maxBinaryBytes() == null ? AgentConfig.WorkloadApi.DEFAULT_MAX_BINARY : wc.maxBinaryBytes());
            String td = BundleFollower.trustDomainOf(id.spiffeId());
            workloadApi = WorkloadApi.start(s, td, new ApplianceIssuer(() -> current), new StateTrustBundles(state, td),
                    clock);
        } catch (IOException | RuntimeException | LinkageError e) {
            workloadApiFailed = true;
            LOG.error("the Workload API is enabled but could not start; the agent runs without it: {}", e.getMessage());
        }
        return workloadApi;
    }

    /** CONNACK 0x87 (not authorized) or 0x8A (banned): the appliance, or the site broker, will not have this node. */
    static boolean refusedAtConnect(MqttException e) {
        return e.getReasonCode() == MqttReturnCode.RETURN_CODE_NOT_AUTHORIZED
                || e.getReasonCode() == MqttReturnCode.RETURN_CODE_BANNED;
    }

    /** The Workload API, or null when it is off or not started yet. */
    public WorkloadApi workloadApi() {
        return workloadApi;
    }

    /** The last verdict the appliance gave (trusted, failed, pending), or null before the first. */
    public String verdict() {
        return verdict;
    }

    private X509TrustManager bootstrapTrust() throws IOException, GeneralSecurityException {
        // A bundle the appliance gave us earlier outranks the bootstrap setting: it follows CA rotation.
        List<X509Certificate> kept = state.bundle().orElse(null);
        if (kept != null && !kept.isEmpty()) {
            return TlsContexts.trusting(kept, clock);
        }
        if (config.trust().bundle() != null) {
            return TlsContexts.trusting(AgentState.certificates(Files.readString(config.trust().bundle())), clock);
        }
        return TlsContexts.pinned(config.pinnedFingerprint(), clock);
    }

    private ApplianceClient client(int port, Addressing addressing) throws MqttException {
        return new ApplianceClient(config.appliance().host(), port, addressing, codec, config.requestTimeout());
    }

    private void pause() {
        Duration d = backoff.next();
        LOG.info("retrying in {} ms", d.toMillis());
        sleep(d.toMillis());
    }

    private void sleep(long ms) {
        CompletableFuture<Void> w = wake;
        try {
            w.get(ms, TimeUnit.MILLISECONDS);
            wake = new CompletableFuture<>();
        } catch (TimeoutException slept) {
            // the whole pause
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop.countDown();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("wake is only ever completed normally", e);
        }
    }

    /**
     * Ends the current wait now (before the next attestation, the next renewal, or a back-off pause): waits are
     * durations of wall time computed from the clock, so after the clock was moved (a test's simulated days, a system
     * clock stepped forward) the agent looks again at once instead of finishing a wait the clock has made pointless.
     */
    public void wake() {
        wake.complete(null);
    }

    /** When (by the agent's clock) the appliance last gave a verdict, or null before the first. */
    public Instant lastVerdictAt() {
        return lastVerdictAt;
    }

    /** Stops the loop and closes the connection; returns at once. */
    public void stop() {
        stop.countDown();
        wake.complete(null);
        ApplianceClient c = current;
        if (c != null) {
            // Closed on its own thread so stop() never waits on the network.
            Thread t = new Thread(c::close, "outpost-agent-close");
            t.setDaemon(true);
            t.start();
        }
    }
}
