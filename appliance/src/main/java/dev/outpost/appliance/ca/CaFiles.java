package dev.outpost.appliance.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.spiffe.KeyFiles;
import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.X509Certs;

/**
 * The CA directory ({@code <dataDir>/ca/}) and the only code that moves files in it.
 *
 * <pre>
 * ca.key, ca.crt, upstream-roots.pem      the active CA (ca.crt: our certificate, then intermediates; no root)
 *                                         (with ca.keyProtection: tpm every *.key is *.key.sealed, see {@link CaKeys})
 * next.key [next.csr] [next.crt next-roots.pem]   the next CA: key made here, certificate once signed
 * previous.crt previous-roots.pem         the CA before the last switch: its roots stay in the bundle until it expires
 * </pre>
 *
 * <p>Every file is written whole (temp file, fsync, rename). A switch {@code next.*} → {@code ca.*} is three renames;
 * the key moves first, and a start that finds {@code ca.key} belonging to {@code next.crt} (a crash mid-switch)
 * completes it, so no crash leaves a key without its certificate. Blocking I/O: call on a worker.
 */
public final class CaFiles {
    private static final Logger LOG = LoggerFactory.getLogger(CaFiles.class);
    public static final String NEXT_KEY = "next.key";
    public static final String NEXT_CSR = "next.csr";
    public static final String NEXT_CERT = "next.crt";
    public static final String NEXT_ROOTS = "next-roots.pem";
    public static final String PREVIOUS_CERT = "previous.crt";
    public static final String PREVIOUS_ROOTS = "previous-roots.pem";
    private static final int MAX_FILE_BYTES = 64 * 1024;
    private static final int MAX_CERTS = 8;

    private final Path dir;
    private final CaKeys keys;

    public CaFiles(Path dir) {
        this(dir, CaKeys.file());
    }

    /** A CA directory whose private keys are kept as {@code keys} says (plain or sealed to the TPM). */
    public CaFiles(Path dir, CaKeys keys) {
        this.dir = dir;
        this.keys = keys;
    }

    public CaKeys keys() {
        return keys;
    }

    public Path dir() {
        return dir;
    }

    public Path path(String name) {
        return dir.resolve(name);
    }

    public boolean hasActive() {
        return CaKeys.exists(dir, SiteCa.KEY_FILE) && Files.exists(path(SiteCa.CERT_FILE));
    }

    public boolean hasNextKey() {
        return CaKeys.exists(dir, NEXT_KEY);
    }

    public boolean hasNextCert() {
        return Files.exists(path(NEXT_CERT));
    }

    /** The pending key, made (0600) when there is none: the key never leaves this directory. */
    public PrivateKey nextKey(boolean replace) throws IOException, GeneralSecurityException {
        ensureDir();
        if (hasNextKey() && !replace) {
            return keys.read(dir, NEXT_KEY);
        }
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        KeyPair pair = gen.generateKeyPair();
        // A certificate signed for an older pending key is useless with the new one.
        Files.deleteIfExists(path(NEXT_CERT));
        Files.deleteIfExists(path(NEXT_ROOTS));
        CaKeys.delete(dir, NEXT_KEY);
        keys.write(dir, NEXT_KEY, pair.getPrivate());
        LOG.info("made the next site CA key {} ({})", path(keys.fileName(NEXT_KEY)), keys.describe());
        return pair.getPrivate();
    }

    public void writeNextCsr(String pem) throws IOException {
        KeyFiles.writePublic(path(NEXT_CSR), PemIo.ascii(pem));
    }

    /** Writes what {@link InstallCheck} accepted for the pending key; roots first so next.crt means "complete". */
    public void writeNext(InstallCheck.Accepted a) throws IOException {
        KeyFiles.writePublic(path(NEXT_ROOTS), PemIo.ascii(PemIo.encode(a.roots())));
        KeyFiles.writePublic(path(NEXT_CERT), PemIo.ascii(PemIo.encode(a.chain())));
    }

    /** The next CA's certificate chain and roots, if it has been signed. */
    public Optional<Next> next() throws IOException, GeneralSecurityException {
        if (!hasNextKey() || !hasNextCert()) {
            return Optional.empty();
        }
        List<X509Certificate> chain = certs(path(NEXT_CERT));
        List<X509Certificate> roots = Files.exists(path(NEXT_ROOTS)) ? certs(path(NEXT_ROOTS)) : List.of();
        if (chain.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Next(chain, roots));
    }

    /** A signed next CA: its chain (no root) and the roots above it (empty when it is its own root). */
    public record Next(List<X509Certificate> chain, List<X509Certificate> roots) {
        public X509Certificate certificate() {
            return chain.get(0);
        }

        /** What devices must trust for this CA's SVIDs. */
        public List<X509Certificate> anchors() {
            List<X509Certificate> a = new java.util.ArrayList<>(roots);
            chain.stream().filter(X509Certs::isSelfSigned).forEach(a::add);
            return SiteCa.distinct(a);
        }
    }

    /** The roots of the CA before the last switch, while that CA has not expired (its SVIDs may still be out). */
    public List<X509Certificate> previousAnchors(Instant now) throws IOException, GeneralSecurityException {
        if (!Files.exists(path(PREVIOUS_CERT))) {
            return List.of();
        }
        List<X509Certificate> chain = certs(path(PREVIOUS_CERT));
        if (chain.isEmpty() || !now.isBefore(chain.get(0).getNotAfter().toInstant())) {
            return List.of();
        }
        List<X509Certificate> a = new java.util.ArrayList<>(Files.exists(path(PREVIOUS_ROOTS))
                ? certs(path(PREVIOUS_ROOTS)) : List.of());
        chain.stream().filter(X509Certs::isSelfSigned).forEach(a::add);
        return SiteCa.distinct(a);
    }

    /**
     * Makes the signed next CA the active one: the old chain and roots are kept as {@code previous.*}, then
     * {@code next.key} → {@code ca.key}, {@code next-roots.pem} → {@code upstream-roots.pem}, {@code next.crt} →
     * {@code ca.crt}.
     */
    public void switchToNext() throws IOException {
        if (!hasNextKey() || !hasNextCert()) {
            throw new CaException("no signed next CA in " + dir + " to switch to");
        }
        if (Files.exists(path(SiteCa.CERT_FILE))) {
            copy(SiteCa.CERT_FILE, PREVIOUS_CERT);
            if (Files.exists(path(SiteCa.UPSTREAM_ROOTS_FILE))) {
                copy(SiteCa.UPSTREAM_ROOTS_FILE, PREVIOUS_ROOTS);
            } else {
                Files.deleteIfExists(path(PREVIOUS_ROOTS));
            }
        }
        // The key keeps its form (plain or sealed): a sealed next.key becomes a sealed ca.key.
        String nextKey = Files.exists(path(NEXT_KEY + CaKeys.SEALED_SUFFIX)) ? NEXT_KEY + CaKeys.SEALED_SUFFIX : NEXT_KEY;
        String caKey = nextKey.equals(NEXT_KEY) ? SiteCa.KEY_FILE : SiteCa.KEY_FILE + CaKeys.SEALED_SUFFIX;
        String other = nextKey.equals(NEXT_KEY) ? SiteCa.KEY_FILE + CaKeys.SEALED_SUFFIX : SiteCa.KEY_FILE;
        move(nextKey, caKey);
        Files.deleteIfExists(path(other));
        finishSwitch();
    }

    private void finishSwitch() throws IOException {
        if (Files.exists(path(NEXT_ROOTS))) {
            move(NEXT_ROOTS, SiteCa.UPSTREAM_ROOTS_FILE);
        }
        move(NEXT_CERT, SiteCa.CERT_FILE);
        Files.deleteIfExists(path(NEXT_CSR));
    }

    /**
     * Completes a switch a crash interrupted: {@code next.key} already moved to {@code ca.key}, {@code next.crt}
     * still waiting, and {@code ca.key} is its key. Returns whether there was one.
     */
    public boolean recoverInterruptedSwitch() throws IOException, GeneralSecurityException {
        if (hasNextKey() || !hasNextCert() || !CaKeys.exists(dir, SiteCa.KEY_FILE)) {
            return false;
        }
        List<X509Certificate> next = certs(path(NEXT_CERT));
        if (next.isEmpty() || !X509Certs.belongTogether(keys.read(dir, SiteCa.KEY_FILE), next.get(0).getPublicKey())) {
            return false;
        }
        LOG.warn("completing a CA switch that was interrupted: {} belongs to {}", path(SiteCa.KEY_FILE), path(NEXT_CERT));
        finishSwitch();
        return true;
    }

    /** Forgets an unsigned or signed next CA (after activation, or an operator starting over). */
    public void dropNext() throws IOException {
        for (String f : List.of(NEXT_CERT, NEXT_ROOTS, NEXT_CSR)) {
            Files.deleteIfExists(path(f));
        }
        CaKeys.delete(dir, NEXT_KEY);
    }

    static List<X509Certificate> certs(Path file) throws IOException, GeneralSecurityException {
        return PemIo.certificates(new String(KeyFiles.readLimited(file, MAX_FILE_BYTES), StandardCharsets.US_ASCII),
                MAX_CERTS);
    }

    private void ensureDir() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    private void copy(String from, String to) throws IOException {
        KeyFiles.writePublic(path(to), Files.readAllBytes(path(from)));
    }

    private void move(String from, String to) throws IOException {
        Files.move(path(from), path(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDir();
    }

    private void fsyncDir() {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems cannot open a directory; the rename still happened, only its durability is weaker.
            LOG.debug("cannot fsync {}: {}", dir, e.getMessage());
        }
    }
}
