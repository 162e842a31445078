package dev.outpost.ima.boot;

import java.security.MessageDigest;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.Event;

/**
 * One allowed EFI boot application (shim, grub, a kernel, systemd-boot, a UKI), by its Authenticode digest in one
 * or more banks, as the firmware logs it in EV_EFI_BOOT_SERVICES_APPLICATION.
 *
 * @param comment free text for people (e.g. the file path the generator saw); never matched
 * @param digests bank → digest
 */
public record AllowedApplication(String comment, Map<HashAlg, byte[]> digests) {
    public AllowedApplication {
        if (digests.isEmpty()) {
            throw new IllegalArgumentException("an allowed application needs at least one digest");
        }
        EnumMap<HashAlg, byte[]> copy = new EnumMap<>(HashAlg.class);
        digests.forEach((k, v) -> {
            if (v.length != k.digestSize()) {
                throw new IllegalArgumentException(k + " digest must be " + k.digestSize() + " bytes");
            }
            copy.put(k, v.clone());
        });
        digests = Collections.unmodifiableMap(copy);
    }

    /**
     * True when the event and this entry share at least one of {@code banks} and agree in every such bank. Only the
     * banks a quote proved may be passed: a digest in any other bank is whatever the device chose to write.
     */
    public boolean matches(Event e, Set<HashAlg> banks) {
        boolean common = false;
        for (HashAlg bank : banks) {
            byte[] want = digests.get(bank);
            Optional<byte[]> logged = e.digest(bank);
            if (want != null && logged.isPresent()) {
                if (!MessageDigest.isEqual(logged.get(), want)) {
                    return false;
                }
                common = true;
            }
        }
        return common;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof AllowedApplication a) || !Objects.equals(comment, a.comment)
                || !digests.keySet().equals(a.digests.keySet())) {
            return false;
        }
        return digests.entrySet().stream().allMatch(d -> MessageDigest.isEqual(d.getValue(), a.digests.get(d.getKey())));
    }

    @Override
    public int hashCode() {
        return Objects.hash(comment, digests.keySet());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AllowedApplication[").append(comment);
        digests.forEach((k, v) -> sb.append(' ').append(k.tpmName()).append(':').append(HexFormat.of().formatHex(v)));
        return sb.append(']').toString();
    }
}
