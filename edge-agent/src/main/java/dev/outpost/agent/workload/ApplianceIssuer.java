package dev.outpost.agent.workload;

import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.eclipse.paho.mqttv5.common.MqttException;

import dev.outpost.agent.mqtt.Requester;
import dev.outpost.mqtt.protocol.Entries;
import dev.outpost.mqtt.protocol.EntriesRequest;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.WorkloadJwtIssued;
import dev.outpost.mqtt.protocol.WorkloadJwtRequest;
import dev.outpost.mqtt.protocol.WorkloadSvidIssued;
import dev.outpost.mqtt.protocol.WorkloadSvidRequest;

/**
 * The workload kinds of the device protocol over the agent's current MQTT session with its node SVID (the daemon's
 * connection; none while it is reconnecting, and then the appliance is simply unreachable).
 */
public final class ApplianceIssuer implements WorkloadIssuer {
    private final Supplier<Requester> session;

    /** @param session the current session with a node SVID, or null while there is none */
    public ApplianceIssuer(Supplier<Requester> session) {
        this.session = session;
    }

    @Override
    public Entries entries(long revision) throws IssuerException {
        return ask(Kind.ENTRIES, new EntriesRequest(dev.outpost.mqtt.protocol.Messages.VERSION, revision), Entries.class);
    }

    @Override
    public WorkloadSvidIssued svid(WorkloadSvidRequest request) throws IssuerException {
        return ask(Kind.WORKLOAD_SVID, request, WorkloadSvidIssued.class);
    }

    @Override
    public WorkloadJwtIssued jwt(WorkloadJwtRequest request) throws IssuerException {
        return ask(Kind.WORKLOAD_JWT, request, WorkloadJwtIssued.class);
    }

    private <T> T ask(Kind kind, Object request, Class<T> type) throws IssuerException {
        Requester r = session.get();
        if (r == null) {
            throw new IssuerException(null, kind.wire() + ": not connected to the appliance");
        }
        try {
            return r.request(kind, request, type);
        } catch (ProtocolException e) {
            throw new IssuerException(e.code(), kind.wire() + ": " + e.code() + " " + e.getMessage());
        } catch (MqttException | TimeoutException e) {
            throw new IssuerException(null, kind.wire() + ": appliance unreachable (" + e.getMessage() + ")");
        }
    }
}
