package dev.outpost.ima.boot;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

import dev.outpost.tpm.HashAlg;

/**
 * A measured-boot reference state. A null section is not checked; an empty list is (e.g. an empty application
 * list allows no boot application at all).
 *
 * @param secureBoot what the SecureBoot variable must say
 * @param pk PK rule, or null
 * @param kek KEK rule, or null
 * @param db db rule, or null
 * @param dbx dbx rule, or null
 * @param applications allowed EV_EFI_BOOT_SERVICES_APPLICATION digests, or null
 * @param kernelCmdlines allowed kernel command lines, or null
 * @param eventDigests further rules on event digests (firmware, MokList, initrd); empty when none
 * @param pcrs exact PCR values per bank; empty when none are pinned
 */
public record BootPolicy(SecureBoot secureBoot, SignatureDatabase pk, SignatureDatabase kek, SignatureDatabase db,
                         SignatureDatabase dbx, List<AllowedApplication> applications, List<CmdlineRule> kernelCmdlines,
                         List<EventDigestRule> eventDigests, Map<HashAlg, SortedMap<Integer, byte[]>> pcrs) {

    /** The one format version this code reads and writes. */
    public static final int VERSION = 1;

    /** Expected Secure Boot state. */
    public enum SecureBoot {
        /** SecureBoot must be measured once, with value 1. */
        ENABLED,
        /** Not checked: for machines that boot without Secure Boot, which the other checks must then carry. */
        ANY
    }

    public BootPolicy {
        Objects.requireNonNull(secureBoot);
        applications = applications == null ? null : List.copyOf(applications);
        kernelCmdlines = kernelCmdlines == null ? null : List.copyOf(kernelCmdlines);
        eventDigests = eventDigests == null ? List.of() : List.copyOf(eventDigests);
        EnumMap<HashAlg, SortedMap<Integer, byte[]>> copy = new EnumMap<>(HashAlg.class);
        if (pcrs != null) {
            pcrs.forEach((bank, values) -> {
                TreeMap<Integer, byte[]> m = new TreeMap<>();
                values.forEach((pcr, v) -> {
                    if (v.length != bank.digestSize()) {
                        throw new IllegalArgumentException("PCR " + bank + ":" + pcr + " must be "
                                + bank.digestSize() + " bytes");
                    }
                    m.put(pcr, v.clone());
                });
                if (!m.isEmpty()) {
                    copy.put(bank, Collections.unmodifiableSortedMap(m));
                }
            });
        }
        pcrs = Collections.unmodifiableMap(copy);
    }

    /** The rule for a database by its UEFI variable name, or null. */
    public SignatureDatabase database(String variable) {
        return switch (variable) {
            case "PK" -> pk;
            case "KEK" -> kek;
            case "db" -> db;
            case "dbx" -> dbx;
            default -> throw new IllegalArgumentException(variable);
        };
    }

    /** The four signature database variables in the order they are checked. */
    public static final List<String> DATABASES = List.of("PK", "KEK", "db", "dbx");

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof BootPolicy p) || secureBoot != p.secureBoot || !Objects.equals(pk, p.pk)
                || !Objects.equals(kek, p.kek) || !Objects.equals(db, p.db) || !Objects.equals(dbx, p.dbx)
                || !Objects.equals(applications, p.applications) || !Objects.equals(kernelCmdlines, p.kernelCmdlines)
                || !eventDigests.equals(p.eventDigests)
                || !pcrs.keySet().equals(p.pcrs.keySet())) {
            return false;
        }
        for (HashAlg bank : pcrs.keySet()) {
            SortedMap<Integer, byte[]> a = pcrs.get(bank);
            SortedMap<Integer, byte[]> b = p.pcrs.get(bank);
            if (!a.keySet().equals(b.keySet())
                    || a.keySet().stream().anyMatch(k -> !java.util.Arrays.equals(a.get(k), b.get(k)))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Objects.hash(secureBoot, pk, kek, db, dbx, applications, kernelCmdlines, pcrs.keySet());
    }
}
