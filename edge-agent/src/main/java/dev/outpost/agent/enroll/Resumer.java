package dev.outpost.agent.enroll;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.concurrent.TimeoutException;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.ResumeChallenge;
import dev.outpost.mqtt.protocol.ResumeChallengeRequest;
import dev.outpost.mqtt.protocol.ResumeRequest;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * An enrolled device whose SVID expired (the appliance was away longer than the SVID lived) proves it is still the
 * same TPM with a quote of its enrolled AK over a fresh nonce, and gets a probationary SVID back: no new enrollment,
 * no EK credential round, and the appliance keeps what it verified of the device.
 */
public final class Resumer {
    private static final Logger LOG = LoggerFactory.getLogger(Resumer.class);

    private final DeviceTpm tpm;
    private final NodeKeys nodeKeys;

    public Resumer(DeviceTpm tpm, NodeKeys nodeKeys) {
        this.tpm = tpm;
        this.nodeKeys = nodeKeys;
    }

    public Enroller.Enrolled resume(ApplianceClient client, String deviceId)
            throws IOException, ProtocolException, MqttException, TimeoutException, GeneralSecurityException {
        ResumeChallenge ch = client.request(Kind.RESUME_CHALLENGE, new ResumeChallengeRequest(Messages.VERSION),
                ResumeChallenge.class);
        PcrSelection selection = PcrSelection.parse(ch.pcrSelection());
        byte[] nonce = Codec.base64(ch.nonce(), "nonce", 64);
        QuoteEvidence q = tpm.quote(nonce, selection);
        KeyPair nodeKey = nodeKeys.newKey();
        String[] proof = NodeKeys.fields(nodeKeys.certify(nodeKey, nonce));
        SvidIssued svid = client.request(Kind.RESUME, new ResumeRequest(Messages.VERSION, ch.nonce(),
                Codec.base64(q.attest()), Codec.base64(q.signature()), Codec.base64(PcrFile.write(q.pcrs(), selection)),
                Codec.base64(NodeKeys.csr(nodeKey, deviceId)), proof[0], proof[1], proof[2]), SvidIssued.class);
        LOG.info("resumed as {} with the enrolled AK; attesting for the node SVID", svid.spiffeId());
        return new Enroller.Enrolled(nodeKey, svid);
    }
}
