package dev.outpost.tpm.eventlog;

import java.util.List;
import java.util.Optional;

import dev.outpost.tpm.HashAlg;

/**
 * A parsed TCG PC Client boot event log.
 *
 * @param format legacy SHA-1 records only, or crypto-agile after a Spec ID header
 * @param specId the header of a crypto-agile log, empty for a legacy log
 * @param events every record in log order, the Spec ID header included
 */
public record EventLog(Format format, Optional<SpecId> specId, List<Event> events) {

    /** The two record layouts of the TCG PC Client Platform Firmware Profile. */
    public enum Format {
        /** TCG_PCClientPCREvent records with one SHA-1 digest each. */
        LEGACY_SHA1,
        /** A Spec ID Event03 header, then TCG_PCR_EVENT2 records with one digest per declared bank. */
        CRYPTO_AGILE
    }

    public EventLog {
        events = List.copyOf(events);
    }

    /** Parses a binary log with the default limits. */
    public static EventLog parse(byte[] log) throws EventLogException {
        return parse(log, Limits.DEFAULT);
    }

    /** Parses a binary log; anything truncated, inconsistent or over a limit throws. */
    public static EventLog parse(byte[] log, Limits limits) throws EventLogException {
        return new EventLogParser(log, limits).parse();
    }

    /** Algorithm ids the Spec ID header declares that {@link HashAlg} does not know. */
    public List<Integer> unknownAlgorithms() {
        return specId.map(s -> s.algorithms().stream().map(SpecId.AlgorithmSize::algId)
                .filter(id -> HashAlg.fromAlgId(id).isEmpty()).toList()).orElse(List.of());
    }
}
