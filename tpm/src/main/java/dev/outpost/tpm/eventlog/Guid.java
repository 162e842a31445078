package dev.outpost.tpm.eventlog;

import java.util.HexFormat;
import java.util.Locale;

/** An EFI_GUID as stored in UEFI structures (first three fields little-endian), printed in canonical form. */
public record Guid(String text) {
    /** EFI_CERT_X509_GUID: an EFI_SIGNATURE_DATA holding one DER certificate. */
    public static final Guid CERT_X509 = new Guid("a5c059a1-94e4-4aa7-87b5-ab155c2bf072");
    /** EFI_CERT_SHA256_GUID: an EFI_SIGNATURE_DATA holding one SHA-256 hash. */
    public static final Guid CERT_SHA256 = new Guid("c1c41626-504c-4092-aca9-41f936934328");

    public Guid {
        text = text.toLowerCase(Locale.ROOT);
    }

    /** Decodes 16 bytes in the mixed-endian EFI_GUID layout. */
    public static Guid of(byte[] b) {
        if (b.length != 16) {
            throw new IllegalArgumentException("a GUID is 16 bytes");
        }
        HexFormat h = HexFormat.of();
        String s = h.formatHex(new byte[] {b[3], b[2], b[1], b[0]}) + "-"
                + h.formatHex(new byte[] {b[5], b[4]}) + "-"
                + h.formatHex(new byte[] {b[7], b[6]}) + "-"
                + h.formatHex(b, 8, 10) + "-"
                + h.formatHex(b, 10, 16);
        return new Guid(s);
    }

    /** The 16-byte EFI_GUID encoding, inverse of {@link #of}. */
    public byte[] toBytes() {
        byte[] p = HexFormat.of().parseHex(text.replace("-", ""));
        return new byte[] {p[3], p[2], p[1], p[0], p[5], p[4], p[7], p[6],
            p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]};
    }

    @Override
    public String toString() {
        return text;
    }
}
