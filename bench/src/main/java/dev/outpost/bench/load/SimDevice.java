package dev.outpost.bench.load;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.SSLException;

import io.netty.handler.ssl.SslContext;

import dev.outpost.agent.attest.Attester;
import dev.outpost.agent.enroll.NodeKeys;
import dev.outpost.bench.load.mqtt.MqttClients;
import dev.outpost.bench.load.mqtt.MqttSession;
import dev.outpost.mqtt.protocol.ActivateRequest;
import dev.outpost.mqtt.protocol.BrokerClientIds;
import dev.outpost.mqtt.protocol.Challenge;
import dev.outpost.mqtt.protocol.ChallengeRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * One simulated device: its software TPM, a kernel's growing IMA list, and an MQTT session with the appliance
 * (or the site broker), speaking the agent's protocol code. A misbehaving device turns bad once it has been
 * trusted, in one of three ways, and must end {@code failed}. Not thread-safe: the generator runs one operation per
 * device at a time.
 */
public final class SimDevice {
    static final String UNKNOWN_FILE = "/tmp/not-in-policy";

    /** How a misbehaving device gives itself away. */
    public enum Misbehaviour {
        /** Runs a file the policy does not know. */
        UNKNOWN_FILE,
        /** Runs a file, then shows a known file's digest in the list: the list no longer replays to PCR 10. */
        TAMPERED_LIST,
        /** Answers a new challenge with its previous quote. */
        REPLAYED_QUOTE
    }

    /** Where devices connect and how they trust the appliance. */
    public record Site(MqttClients clients, String host, int mtlsPort, int enrollPort, List<X509Certificate> anchors,
            SslContext enrollTls) {
        public Site(MqttClients clients, String host, int mtlsPort, int enrollPort, List<X509Certificate> anchors)
                throws SSLException {
            this(clients, host, mtlsPort, enrollPort, anchors, MqttClients.tls(anchors, null, null));
        }

        /** The embedded endpoint serves both on one port; a site broker has a listener for each. */
        boolean viaBroker() {
            return mtlsPort != enrollPort;
        }
    }

    private final SoftwareTpm tpm;
    private final byte[] ekCertificate;
    private final FilePool pool;
    private final ImaLog ima;
    private final Misbehaviour misbehaviour;
    private final SecureRandom random;
    private int attestations;
    private int nextFile;
    private SslContext identity;
    // As the agent: the probationary SVID from enrollment is exchanged for a node SVID through the first passing
    // attestation, and a node SVID is renewed the same way after half its life.
    private boolean probationary;
    private java.time.Instant renewAt;
    private Site site;
    private MqttSession session;
    private QuoteEvidence lastQuote;
    private String lastState = "none";

    public SimDevice(SoftwareTpm tpm, byte[] ekCertificate, FilePool pool, Misbehaviour misbehaviour, SecureRandom random) {
        this.tpm = tpm;
        this.ekCertificate = ekCertificate;
        this.pool = pool;
        this.misbehaviour = misbehaviour;
        this.random = random;
        this.ima = new ImaLog(tpm, pool);
        this.nextFile = random.nextInt(pool.size());
        // Firmware measures the boot, then IMA starts its list with boot_aggregate.
        for (int pcr = 0; pcr < 10; pcr++) {
            tpm.extend(pcr, pool.firmware(pcr));
        }
        ima.measure("boot_aggregate", pool.bootAggregate());
    }

    /**
     * A power cut and a boot: the TPM resets, the firmware measures again, and the kernel starts a new IMA list of
     * {@code entries} files the policy knows (after boot_aggregate). The next attestation finds the new resetCount;
     * the appliance asks for the whole list and the boot log.
     */
    public synchronized void reboot(int entries) {
        tpm.reboot();
        ima.reset();
        for (int pcr = 0; pcr < 10; pcr++) {
            tpm.extend(pcr, pool.firmware(pcr));
        }
        ima.measure("boot_aggregate", pool.bootAggregate());
        for (int i = 0; i < entries; i++) {
            ima.measureFile(pool.index(nextFile++));
        }
    }

    public String id() {
        return tpm.deviceId();
    }

    public boolean misbehaving() {
        return misbehaviour != null;
    }

    public Misbehaviour misbehaviour() {
        return misbehaviour;
    }

    public String lastState() {
        return lastState;
    }

    /** Enrolls on the enrollment port without a client certificate, then connects with the SVID it got. */
    public void enroll(Site site) throws Exception {
        try (MqttSession c = site.viaBroker()
                ? site.clients().connect(site.host(), site.enrollPort(), id(), BrokerClientIds.fresh(), true, site.enrollTls())
                : site.clients().connect(site.host(), site.enrollPort(), id(), site.enrollTls())) {
            EnrollChallenge ch = c.request(Kind.ENROLL, new EnrollRequest(Messages.VERSION,
                    Codec.base64(tpm.ekPublic().encodedSized()), Codec.base64(ekCertificate),
                    Codec.base64(tpm.akPublic().encodedSized())), EnrollChallenge.class);
            byte[] secret = tpm.activate(new CredentialBlob(Codec.base64(ch.credentialBlob(), "credentialBlob", 1024),
                    Codec.base64(ch.encryptedSecret(), "encryptedSecret", 1024)));
            KeyPair nodeKey = NodeKeys.generate();
            // Certified by the simulated AK over SHA-256 of the secret, as the agent's TPM key is.
            String[] proof = NodeKeys.fields(tpm.certify(nodeKey.getPublic(), dev.outpost.tpm.HashAlg.SHA256.digest(secret)));
            SvidIssued svid = c.request(Kind.ACTIVATE, new ActivateRequest(Messages.VERSION, Codec.base64(secret),
                    Codec.base64(NodeKeys.csr(nodeKey, id())), proof[0], proof[1], proof[2]), SvidIssued.class);
            identity = MqttClients.tls(site.anchors(), nodeKey.getPrivate(), pem(svid.svidPem()));
            probationary = true;
        }
        connect(site);
    }

    /** (Re)connects with the identity enrollment gave, as the agent does after the appliance comes back. */
    public void connect(Site site) throws Exception {
        this.site = site;
        if (session != null) {
            session.close();
        }
        session = site.viaBroker()
                ? site.clients().connect(site.host(), site.mtlsPort(), id(), BrokerClientIds.fresh(), false, identity)
                : site.clients().connect(site.host(), site.mtlsPort(), id(), identity);
    }

    public boolean connected() {
        return session != null && session.isConnected();
    }

    /**
     * Runs {@code newEntries} files, then one attestation. {@code started} receives System.nanoTime() at the
     * challenge request, so the caller's latency covers challenge to verdict and not the simulated kernel; and, when
     * it has room, at the challenge's arrival ([1]) and once the evidence is made, before it is sent ([2]): where
     * the time goes, the appliance's two round trips or the device's quote.
     */
    public Verdict attest(int newEntries, long[] started) throws Exception {
        if (!connected()) {
            throw new IllegalStateException("not connected");
        }
        for (int i = 0; i < newEntries; i++) {
            ima.measureFile(pool.index(nextFile++));
        }
        boolean bad = misbehaving() && attestations >= 1;
        if (bad && misbehaviour != Misbehaviour.REPLAYED_QUOTE) {
            byte[] d = new byte[32];
            random.nextBytes(d);
            if (misbehaviour == Misbehaviour.UNKNOWN_FILE) {
                ima.measure(UNKNOWN_FILE, d);
            } else {
                ima.measureDisguised(pool.index(nextFile++), d);
            }
        }
        attestations++;
        started[0] = System.nanoTime();
        Challenge ch = session.request(Kind.CHALLENGE, new ChallengeRequest(Messages.VERSION), Challenge.class);
        mark(started, 1);
        PcrSelection selection = PcrSelection.parse(ch.pcrSelection());
        QuoteEvidence q = bad && misbehaviour == Misbehaviour.REPLAYED_QUOTE && lastQuote != null ? lastQuote
                : tpm.quote(Codec.base64(ch.nonce(), "nonce", 64), selection);
        lastQuote = q;
        // Quote first, list after: the same order as the agent (here nothing runs in between).
        byte[] slice = ima.from(ch.imaOffset());
        KeyPair renewKey = probationary || java.time.Instant.now().isAfter(renewAt) ? NodeKeys.generate() : null;
        byte[] csr = renewKey == null ? null : NodeKeys.csr(renewKey, id());
        var certified = renewKey == null ? null : tpm.certify(renewKey.getPublic(), Codec.base64(ch.nonce(), "nonce", 64));
        mark(started, 2);
        Verdict v = Attester.send(session, ch, q, selection, slice, ch.wantBootLog() ? pool.bootLog() : new byte[0],
                csr, certified);
        lastState = v.state();
        if (v.svid() != null && renewKey != null) {
            // Used from the next connection on, as the agent does.
            List<X509Certificate> chain = pem(v.svid().svidPem());
            identity = MqttClients.tls(site.anchors(), renewKey.getPrivate(), chain);
            probationary = false;
            java.time.Instant from = chain.get(0).getNotBefore().toInstant();
            renewAt = from.plus(java.time.Duration.between(from, chain.get(0).getNotAfter().toInstant()).dividedBy(2));
        }
        return v;
    }

    private static void mark(long[] times, int i) {
        if (times.length > i) {
            times[i] = System.nanoTime();
        }
    }

    private static final Codec BUNDLE_CODEC = new Codec(dev.outpost.mqtt.protocol.SiteBundle.LIMITS);
    /** Sequence → System.nanoTime() when this device took that bundle (the agent's rule: newer, our trust domain). */
    private final java.util.Map<Long, Long> bundleTaken = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong bundleBytes = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger bundleRefused = new java.util.concurrent.atomic.AtomicInteger();
    private volatile long bundleSequence = -1;

    /**
     * Subscribes to the site bundle as the agent does once connected, and takes each message the agent would
     * (decoded, for {@code trustDomain}, sequence newer than the one held). Not done: the agent's certificate checks
     * and file writes, device-side work that would otherwise run on the generator's shared event loop and delay
     * every other device's receipt.
     */
    public void followBundle(String trustDomain) throws Exception {
        session.followSiteBundle((payload, arrived) -> {
            bundleBytes.addAndGet(payload.length);
            try {
                var b = BUNDLE_CODEC.decode(payload, dev.outpost.mqtt.protocol.SiteBundle.class);
                if (!b.trustDomain().equals(trustDomain)) {
                    bundleRefused.incrementAndGet();
                    return;
                }
                if (b.sequence() > bundleSequence) {
                    bundleTaken.put(b.sequence(), arrived);
                    bundleSequence = b.sequence();
                }
            } catch (Exception e) {
                bundleRefused.incrementAndGet();
            }
        });
    }

    /** The newest bundle sequence taken, -1 before any. */
    public long bundleSequence() {
        return bundleSequence;
    }

    /** When this device took bundle {@code sequence} (System.nanoTime()), or null if it never did. */
    public Long bundleTakenAt(long sequence) {
        return bundleTaken.get(sequence);
    }

    /** Bundle payload bytes received so far. */
    public long bundleBytes() {
        return bundleBytes.get();
    }

    /** Bundle messages not taken: undecodable or for another trust domain. */
    public int bundleRefused() {
        return bundleRefused.get();
    }

    public int attestations() {
        return attestations;
    }

    public void close() {
        if (session != null) {
            session.close();
        }
    }

    private static List<X509Certificate> pem(String pem) throws GeneralSecurityException {
        return CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))).stream()
                .map(c -> (X509Certificate) c).toList();
    }
}
