package dev.outpost.ima.boot;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

import javax.security.auth.x500.X500Principal;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventData.SignatureEntry;
import dev.outpost.tpm.eventlog.Guid;

/**
 * One EFI_SIGNATURE_DATA a policy names: an X.509 certificate (by SHA-256 fingerprint of its DER, or by subject and
 * serial number), a SHA-256 hash entry, or any other entry type by its type GUID and the SHA-256 of its data.
 *
 * @param kind what is matched
 * @param sha256 certificate fingerprint, the hash itself, or the SHA-256 of a raw entry's data; null for SUBJECT
 * @param subject RFC 2253 subject, only for SUBJECT (compared as X.500 names, not as strings)
 * @param serial serial number, only for SUBJECT
 * @param type the signature type GUID, only for RAW
 * @param owner when set, the entry's SignatureOwner must equal it too
 * @param comment free text for people; never matched
 */
public record AllowedSignature(Kind kind, byte[] sha256, String subject, BigInteger serial, Guid type, Guid owner,
                               String comment) {

    /** How an entry is named. */
    public enum Kind { CERT_SHA256, CERT_SUBJECT, HASH_SHA256, RAW }

    public AllowedSignature {
        Objects.requireNonNull(kind);
        sha256 = sha256 == null ? null : sha256.clone();
        if ((kind == Kind.CERT_SUBJECT) != (subject != null && serial != null)
                || (kind != Kind.CERT_SUBJECT && (sha256 == null || sha256.length != 32))
                || (kind == Kind.RAW) != (type != null)) {
            throw new IllegalArgumentException("inconsistent fields for a " + kind + " signature entry");
        }
    }

    public static AllowedSignature certificate(byte[] sha256Fingerprint, String comment) {
        return new AllowedSignature(Kind.CERT_SHA256, sha256Fingerprint, null, null, null, null, comment);
    }

    public static AllowedSignature hash(byte[] sha256, String comment) {
        return new AllowedSignature(Kind.HASH_SHA256, sha256, null, null, null, null, comment);
    }

    /** The most exact description of an entry seen in a log, as the generator records it. */
    public static AllowedSignature of(SignatureEntry e) {
        X509Certificate c = e.certificate();
        if (e.isX509()) {
            String comment = c == null ? "unparseable certificate" : c.getSubjectX500Principal().getName();
            return certificate(HashAlg.SHA256.digest(e.data()), comment);
        }
        if (e.isSha256()) {
            return hash(e.data(), null);
        }
        return new AllowedSignature(Kind.RAW, HashAlg.SHA256.digest(e.data()), null, null, e.type(), null, null);
    }

    @Override
    public byte[] sha256() {
        return sha256 == null ? null : sha256.clone();
    }

    /** Whether a log entry is this one. */
    public boolean matches(SignatureEntry e) {
        if (owner != null && !owner.equals(e.owner())) {
            return false;
        }
        switch (kind) {
            case CERT_SHA256:
                return e.isX509() && MessageDigest.isEqual(sha256, HashAlg.SHA256.digest(e.data()));
            case CERT_SUBJECT: {
                X509Certificate c = e.certificate();
                return c != null && serial.equals(c.getSerialNumber())
                        && new X500Principal(subject).equals(c.getSubjectX500Principal());
            }
            case HASH_SHA256:
                return e.isSha256() && MessageDigest.isEqual(sha256, e.data());
            default:
                return type.equals(e.type()) && MessageDigest.isEqual(sha256, HashAlg.SHA256.digest(e.data()));
        }
    }

    /** Whether it names a certificate, a hash or something else: picks the failure id. */
    public String noun() {
        return kind == Kind.HASH_SHA256 ? "hash" : kind == Kind.RAW ? "entry" : "cert";
    }

    public String describe() {
        String s = switch (kind) {
            case CERT_SHA256 -> "certificate sha256:" + HexFormat.of().formatHex(sha256);
            case CERT_SUBJECT -> "certificate \"" + subject + "\" serial " + serial.toString(16);
            case HASH_SHA256 -> "hash sha256:" + HexFormat.of().formatHex(sha256);
            case RAW -> "entry of type " + type + " sha256:" + HexFormat.of().formatHex(sha256);
        };
        return comment == null ? s : s + " (" + comment + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AllowedSignature a && kind == a.kind && Arrays.equals(sha256, a.sha256)
                && Objects.equals(subject, a.subject) && Objects.equals(serial, a.serial)
                && Objects.equals(type, a.type) && Objects.equals(owner, a.owner)
                && Objects.equals(comment, a.comment);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, Arrays.hashCode(sha256), subject, serial, type, owner);
    }
}
