package dev.outpost.bench.load;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import javax.net.ssl.X509TrustManager;

import dev.outpost.agent.attest.Attester;
import dev.outpost.agent.enroll.NodeKeys;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.mqtt.protocol.ActivateRequest;
import dev.outpost.mqtt.protocol.Challenge;
import dev.outpost.mqtt.protocol.ChallengeRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * One simulated device: its software TPM, a kernel's growing IMA list, and an MQTT session with the appliance,
 * speaking the agent's protocol code. A misbehaving device runs a file the policy does not know once it has
 * been trusted, and must end {@code failed}. Not thread-safe: the generator runs one operation per device at a time.
 */
public final class SimDevice {
    static final String UNKNOWN_FILE = "/tmp/not-in-policy";

    /** Where devices connect and how they trust the appliance. */
    public record Site(String host, int port, X509TrustManager trust, Topics topics, Codec codec, Duration timeout) {
    }

    private final SoftwareTpm tpm;
    private final byte[] ekCertificate;
    private final FilePool pool;
    private final ImaLog ima;
    private final boolean misbehaving;
    private final SecureRandom random;
    private int attestations;
    private int nextFile;
    private ApplianceClient session;
    private String lastState = "none";

    public SimDevice(SoftwareTpm tpm, byte[] ekCertificate, FilePool pool, boolean misbehaving, SecureRandom random) {
        this.tpm = tpm;
        this.ekCertificate = ekCertificate;
        this.pool = pool;
        this.misbehaving = misbehaving;
        this.random = random;
        this.ima = new ImaLog(tpm);
        this.nextFile = random.nextInt(pool.size());
        // Firmware measures the boot, then IMA starts its list with boot_aggregate.
        for (int pcr = 0; pcr < 10; pcr++) {
            tpm.extend(pcr, pool.firmware(pcr));
        }
        ima.measure("boot_aggregate", pool.bootAggregate());
    }

    public String id() {
        return tpm.deviceId();
    }

    public boolean misbehaving() {
        return misbehaving;
    }

    public String lastState() {
        return lastState;
    }

    /** Enrolls without a client certificate, then reconnects with the SVID it got. */
    public void enroll(Site site) throws Exception {
        NodeIdentity identity;
        try (ApplianceClient c = new ApplianceClient(site.host(), site.port(), id(), site.topics(), site.codec(),
                site.timeout())) {
            c.connect(TlsContexts.context(site.trust(), null));
            EnrollChallenge ch = c.request(Kind.ENROLL, new EnrollRequest(Messages.VERSION,
                    Codec.base64(tpm.ekPublic().encodedSized()), Codec.base64(ekCertificate),
                    Codec.base64(tpm.akPublic().encodedSized())), EnrollChallenge.class);
            byte[] secret = tpm.activate(new CredentialBlob(Codec.base64(ch.credentialBlob(), "credentialBlob", 1024),
                    Codec.base64(ch.encryptedSecret(), "encryptedSecret", 1024)));
            KeyPair nodeKey = NodeKeys.generate();
            SvidIssued svid = c.request(Kind.ACTIVATE, new ActivateRequest(Messages.VERSION, Codec.base64(secret),
                    Codec.base64(NodeKeys.csr(nodeKey, id()))), SvidIssued.class);
            identity = new NodeIdentity(nodeKey.getPrivate(), pem(svid.svidPem()), pem(svid.bundlePem()));
        }
        session = new ApplianceClient(site.host(), site.port(), id(), site.topics(), site.codec(), site.timeout());
        session.connect(TlsContexts.context(site.trust(), identity));
    }

    /**
     * Runs {@code newEntries} files, then one attestation. {@code started} receives System.nanoTime() at the
     * challenge request, so the caller's latency covers challenge to verdict and not the simulated kernel.
     */
    public Verdict attest(int newEntries, long[] started) throws Exception {
        if (session == null || !session.isConnected()) {
            throw new IllegalStateException("not connected");
        }
        for (int i = 0; i < newEntries; i++) {
            FilePool.File f = pool.pick(nextFile++);
            ima.measure(f.path(), f.digest());
        }
        if (misbehaving && attestations >= 1) {
            byte[] d = new byte[32];
            random.nextBytes(d);
            ima.measure(UNKNOWN_FILE, d);
        }
        attestations++;
        started[0] = System.nanoTime();
        Challenge ch = session.request(Kind.CHALLENGE, new ChallengeRequest(Messages.VERSION), Challenge.class);
        PcrSelection selection = PcrSelection.parse(ch.pcrSelection());
        QuoteEvidence q = tpm.quote(Codec.base64(ch.nonce(), "nonce", 64), selection);
        // Quote first, list after: the same order as the agent (here nothing runs in between).
        byte[] slice = ima.from(ch.imaOffset());
        Verdict v = Attester.send(session, ch, q, selection, slice, new byte[0], null);
        lastState = v.state();
        return v;
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
