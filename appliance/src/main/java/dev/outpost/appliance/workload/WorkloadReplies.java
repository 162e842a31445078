package dev.outpost.appliance.workload;

import dev.outpost.appliance.refusal.Refusal;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Entries;
import dev.outpost.mqtt.protocol.EntriesRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.WorkloadJwtIssued;
import dev.outpost.mqtt.protocol.WorkloadJwtRequest;
import dev.outpost.mqtt.protocol.WorkloadSvidIssued;
import dev.outpost.mqtt.protocol.WorkloadSvidRequest;

/**
 * The device protocol's workload kinds ({@code entries}, {@code workload-svid}, {@code workload-jwt}): decodes the
 * request's fields with their limits, calls {@link WorkloadService} and builds the reply. Runs on a worker (the
 * dispatcher's), as the service does JDBC.
 */
public final class WorkloadReplies {
    private WorkloadReplies() {
    }

    public static Object handle(WorkloadService service, String deviceId, Kind kind, Object message)
            throws Refusal, ProtocolException {
        switch (kind) {
            case ENTRIES: {
                EntriesRequest q = (EntriesRequest) message;
                if (q.revision() < 0) {
                    throw new ProtocolException(ErrorCode.BAD_REQUEST, "revision must not be negative");
                }
                EntryStore.Snapshot s = service.entriesFor(deviceId);
                return new Entries(Messages.VERSION, s.revision(), s.entries().stream().map(Entry::toWire).toList());
            }
            case WORKLOAD_SVID: {
                WorkloadSvidRequest q = (WorkloadSvidRequest) message;
                WorkloadService.X509 x = service.x509(deviceId, q.entryId(),
                        Codec.base64(q.csr(), "csr", WorkloadCsr.MAX_BYTES), measurement(q.imaPath(), q.imaSha256()));
                return new WorkloadSvidIssued(Messages.VERSION, x.entry().id(), x.entry().spiffeId(), x.svid().chainPem(),
                        x.svid().notAfter().toEpochMilli());
            }
            case WORKLOAD_JWT: {
                WorkloadJwtRequest q = (WorkloadJwtRequest) message;
                WorkloadService.Jwt j = service.jwt(deviceId, q.entryId(), q.audience(),
                        measurement(q.imaPath(), q.imaSha256()));
                return new WorkloadJwtIssued(Messages.VERSION, j.entry().id(), j.entry().spiffeId(), j.token(),
                        j.expiresAt().toEpochMilli());
            }
            default:
                throw new ProtocolException(ErrorCode.BAD_REQUEST, kind.wire() + " is not a workload request");
        }
    }

    private static WorkloadService.Measurement measurement(String path, String sha256) {
        return path == null && sha256 == null ? null : new WorkloadService.Measurement(path, sha256);
    }
}
