package dev.outpost.agent.attest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.concurrent.TimeoutException;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.enroll.NodeKeys;
import dev.outpost.agent.mqtt.Requester;
import dev.outpost.mqtt.protocol.Challenge;
import dev.outpost.mqtt.protocol.ChallengeRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.EvidenceAccepted;
import dev.outpost.mqtt.protocol.EvidenceRequest;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.tpm.certify.Certification;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * One attestation: ask for a challenge, quote, read the logs, send them in parts that fit the protocol's
 * limits, return the verdict. The quote is taken before the IMA list is read: the list can only have grown
 * since, and the appliance matches the quote to a prefix of it.
 */
public final class Attester {
    private static final Logger LOG = LoggerFactory.getLogger(Attester.class);
    private static final long MAX_LOG = 64L * 1024 * 1024;

    private final DeviceTpm tpm;
    private final Path imaLog;
    private final Path bootLog;

    public Attester(DeviceTpm tpm, Path imaLog, Path bootLog) {
        this.tpm = tpm;
        this.imaLog = imaLog;
        this.bootLog = bootLog;
    }

    /** @param csr a CSR to renew the SVID with this attestation, or null */
    public Verdict attest(Requester c, byte[] csr)
            throws IOException, ProtocolException, MqttException, TimeoutException, GeneralSecurityException {
        return attest(c, csr, null);
    }

    /** How the CSR's key is proved: TPM2_Certify by the AK over the challenge nonce (null: a software key). */
    @FunctionalInterface
    public interface Certifier {
        Certification certify(byte[] nonce) throws IOException;
    }

    /**
     * @param csr       a CSR to renew the SVID with this attestation, or null
     * @param certifier certifies the CSR's TPM-held key over the challenge nonce, or null for a software key
     */
    public Verdict attest(Requester c, byte[] csr, Certifier certifier)
            throws IOException, ProtocolException, MqttException, TimeoutException, GeneralSecurityException {
        Challenge ch = c.request(Kind.CHALLENGE, new ChallengeRequest(Messages.VERSION), Challenge.class);
        byte[] nonce = Codec.base64(ch.nonce(), "nonce", 64);
        PcrSelection selection = PcrSelection.parse(ch.pcrSelection());
        QuoteEvidence q = tpm.quote(nonce, selection);
        Certification certification = csr == null || certifier == null ? null : certifier.certify(nonce);
        byte[] ima = ImaSlice.from(read(imaLog), ch.imaOffset());
        byte[] boot = ch.wantBootLog() ? read(bootLog) : new byte[0];
        Verdict v = send(c, ch, q, selection, ima, boot, csr, certification);
        LOG.info("attestation: {} ({} IMA bytes from entry {}, boot log {} bytes){}", v.state(), ima.length,
                ch.imaOffset(), boot.length, v.reasons().isEmpty() ? "" : ": " + String.join("; ", v.reasons()));
        return v;
    }

    /** Sends evidence for a challenge in as many parts as the logs need; the quote goes in the last. */
    public static Verdict send(Requester c, Challenge ch, QuoteEvidence q, PcrSelection selection, byte[] ima,
            byte[] boot, byte[] csr) throws ProtocolException, MqttException, TimeoutException {
        return send(c, ch, q, selection, ima, boot, csr, null);
    }

    /** As above, with the certification of the CSR's key (its fields travel with the CSR, in the last part). */
    public static Verdict send(Requester c, Challenge ch, QuoteEvidence q, PcrSelection selection, byte[] ima,
            byte[] boot, byte[] csr, Certification certification)
            throws ProtocolException, MqttException, TimeoutException {
        String[] proof = NodeKeys.fields(certification);
        int chunk = Math.max(1024, ch.maxChunkBytes());
        int imaAt = 0;
        int bootAt = 0;
        for (int part = 0; ; part++) {
            byte[] imaSlice = Arrays.copyOfRange(ima, imaAt, Math.min(ima.length, imaAt + chunk));
            imaAt += imaSlice.length;
            int room = chunk - imaSlice.length;
            byte[] bootSlice = Arrays.copyOfRange(boot, bootAt, Math.min(boot.length, bootAt + room));
            bootAt += bootSlice.length;
            boolean more = imaAt < ima.length || bootAt < boot.length;
            EvidenceRequest req = new EvidenceRequest(Messages.VERSION, ch.nonce(), part, more,
                    imaSlice.length == 0 ? null : Codec.base64(imaSlice), bootSlice.length == 0 ? null : Codec.base64(bootSlice),
                    more ? null : Codec.base64(q.attest()), more ? null : Codec.base64(q.signature()),
                    more ? null : Codec.base64(PcrFile.write(q.pcrs(), selection)), more || csr == null ? null : Codec.base64(csr),
                    more || csr == null ? null : proof[0], more || csr == null ? null : proof[1],
                    more || csr == null ? null : proof[2]);
            if (more) {
                c.request(Kind.EVIDENCE, req, EvidenceAccepted.class);
                continue;
            }
            return c.request(Kind.EVIDENCE, req, Verdict.class);
        }
    }

    private static byte[] read(Path p) throws IOException {
        if (!Files.exists(p)) {
            // A kernel without IMA, or firmware without a TCG log: the appliance's policy decides if that is fine.
            LOG.debug("{} does not exist: sending nothing", p);
            return new byte[0];
        }
        // securityfs files report size 0: read to the end, with a cap.
        try (InputStream in = Files.newInputStream(p)) {
            byte[] b = in.readNBytes((int) MAX_LOG + 1);
            if (b.length > MAX_LOG) {
                throw new IOException(p + " is over " + MAX_LOG + " bytes");
            }
            return b;
        }
    }
}
