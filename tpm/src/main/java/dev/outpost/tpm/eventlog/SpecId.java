package dev.outpost.tpm.eventlog;

import java.util.List;

/** The "Spec ID Event03" header of a crypto-agile log: which algorithms every later event may carry. */
public record SpecId(long platformClass, int specVersionMajor, int specVersionMinor, int specErrata,
                     int uintnSize, List<AlgorithmSize> algorithms, byte[] vendorInfo) implements EventData {
    public SpecId {
        algorithms = List.copyOf(algorithms);
        vendorInfo = vendorInfo.clone();
    }

    /** One declared algorithm and the size of its digests in this log. */
    public record AlgorithmSize(int algId, int digestSize) {
    }

    /** The declared size of an algorithm's digests, or -1 if the algorithm was not declared. */
    public int digestSize(int algId) {
        for (AlgorithmSize a : algorithms) {
            if (a.algId() == algId) {
                return a.digestSize();
            }
        }
        return -1;
    }

    @Override
    public String describe() {
        StringBuilder sb = new StringBuilder("Spec ID Event03, spec ").append(specVersionMajor).append('.')
                .append(specVersionMinor).append(" errata ").append(specErrata).append(", algorithms:");
        for (AlgorithmSize a : algorithms) {
            sb.append(' ').append(new EventDigest(a.algId(), new byte[0]).algName()).append('/')
                    .append(a.digestSize());
        }
        return sb.toString();
    }
}
