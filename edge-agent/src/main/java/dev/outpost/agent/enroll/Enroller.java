package dev.outpost.agent.enroll;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.concurrent.TimeoutException;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.mqtt.protocol.ActivateRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.wire.TpmFormatException;

/**
 * The device side of enrollment: present EK and AK, let the TPM open the appliance's credential, and trade the
 * secret (with the node key's CSR) for the first SVID.
 */
public final class Enroller {
    private static final Logger LOG = LoggerFactory.getLogger(Enroller.class);
    private static final int MAX_BLOB = 1024;

    private final DeviceTpm tpm;
    private final NodeKeys nodeKeys;

    public Enroller(DeviceTpm tpm, NodeKeys nodeKeys) {
        this.tpm = tpm;
        this.nodeKeys = nodeKeys;
    }

    /** The new identity: the node key and what the appliance issued for it. */
    public record Enrolled(KeyPair nodeKey, SvidIssued svid) {
    }

    public Enrolled enroll(ApplianceClient client, DeviceTpm.Endorsed ek)
            throws IOException, ProtocolException, MqttException, TimeoutException, GeneralSecurityException {
        AttestationKey ak = tpm.attestationKey();
        EnrollChallenge challenge = client.request(Kind.ENROLL, new EnrollRequest(Messages.VERSION,
                Codec.base64(ek.ekPublic()), Codec.base64(ek.ekCertificate()), Codec.base64(ak.pub().encodedSized())),
                EnrollChallenge.class);
        LOG.info("enrollment challenge received; activating the credential in the TPM");
        byte[] secret;
        try {
            CredentialBlob blob = new CredentialBlob(Codec.base64(challenge.credentialBlob(), "credentialBlob", MAX_BLOB),
                    Codec.base64(challenge.encryptedSecret(), "encryptedSecret", MAX_BLOB));
            secret = tpm.activate(ak, blob);
        } catch (TpmFormatException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, "appliance sent an unusable credential: " + e.getMessage());
        }
        KeyPair nodeKey = nodeKeys.newKey();
        // The AK certifies the node key over SHA-256 of the secret: a nonce the appliance chose and only this TPM
        // could recover, so the certification is fresh without another round trip.
        String[] proof = NodeKeys.fields(nodeKeys.certify(nodeKey, HashAlg.SHA256.digest(secret)));
        SvidIssued svid = client.request(Kind.ACTIVATE, new ActivateRequest(Messages.VERSION, Codec.base64(secret),
                Codec.base64(NodeKeys.csr(nodeKey, ek.deviceId())), proof[0], proof[1], proof[2]), SvidIssued.class);
        LOG.info("enrolled as {}", svid.spiffeId());
        return new Enrolled(nodeKey, svid);
    }
}
