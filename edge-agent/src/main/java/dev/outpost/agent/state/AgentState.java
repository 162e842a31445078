package dev.outpost.agent.state;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import dev.outpost.tpm.keys.Pem;

/**
 * The agent's state directory: the AK blobs (written by the tpm module), the node key (0600), the SVID and the
 * bundle. Everything is written atomically, so a power cut never leaves a key without its certificate.
 */
public final class AgentState {
    static final String NODE_KEY = "node.key";
    static final String SVID = "svid.pem";
    static final String BUNDLE = "bundle.pem";
    static final String BUNDLE_SEQUENCE = "bundle.sequence";
    static final String FEDERATED = "federated";
    private static final int MAX_PEM = 256 * 1024;

    private final Path dir;

    public AgentState(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    public Path svidFile() {
        return dir.resolve(SVID);
    }

    public Path bundleFile() {
        return dir.resolve(BUNDLE);
    }

    public Path keyFile() {
        return dir.resolve(NODE_KEY);
    }

    /** The identity on disk, if all three files are there and belong together. */
    public Optional<NodeIdentity> identity() throws IOException {
        if (!Files.exists(keyFile()) || !Files.exists(svidFile()) || !Files.exists(bundleFile())) {
            return Optional.empty();
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(keyFile());
        if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
            throw new IOException(keyFile() + " is readable by others: refusing to use it (chmod 600)");
        }
        try {
            PrivateKey key = readKey(read(keyFile()));
            List<X509Certificate> chain = certificates(read(svidFile()));
            List<X509Certificate> bundle = certificates(read(bundleFile()));
            if (chain.isEmpty() || bundle.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new NodeIdentity(key, chain, bundle));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("state in " + dir + " is damaged: " + e.getMessage(), e);
        }
    }

    /** The bundle alone (kept when the SVID has expired, to trust the appliance while re-enrolling). */
    public Optional<List<X509Certificate>> bundle() throws IOException {
        if (!Files.exists(bundleFile())) {
            return Optional.empty();
        }
        try {
            return Optional.of(certificates(read(bundleFile())));
        } catch (GeneralSecurityException e) {
            throw new IOException(bundleFile() + ": " + e.getMessage(), e);
        }
    }

    /** The sequence of the last site bundle taken from the bundle topic; -1 before the first. */
    public long bundleSequence() throws IOException {
        Path p = dir.resolve(BUNDLE_SEQUENCE);
        if (!Files.exists(p)) {
            return -1;
        }
        try {
            return Long.parseLong(read(p).trim());
        } catch (NumberFormatException e) {
            // A damaged counter only means the next bundle on the topic is taken whatever its number.
            return -1;
        }
    }

    /**
     * Replaces the trust anchors with a site bundle: federated trust domains first, then ours, the sequence last,
     * so a crash part way leaves the old sequence and the same bundle is applied again on the next connection.
     */
    public void saveBundle(String x509Authorities, java.util.Map<String, String> federated, long sequence) throws IOException {
        Path fed = dir.resolve(FEDERATED);
        Files.createDirectories(fed);
        for (java.util.Map.Entry<String, String> e : federated.entrySet()) {
            AtomicFiles.writePrivate(fed.resolve(e.getKey() + ".pem"), e.getValue());
        }
        try (var old = Files.list(fed)) {
            for (Path p : (Iterable<Path>) old::iterator) {
                String name = p.getFileName().toString();
                if (name.endsWith(".pem") && !federated.containsKey(name.substring(0, name.length() - 4))) {
                    Files.delete(p);
                }
            }
        }
        AtomicFiles.writePrivate(bundleFile(), x509Authorities);
        AtomicFiles.writePrivate(dir.resolve(BUNDLE_SEQUENCE), Long.toString(sequence) + "\n");
    }

    /** Trust anchors of the federated trust domains, by trust domain. */
    public java.util.Map<String, List<X509Certificate>> federatedBundles() throws IOException {
        Path fed = dir.resolve(FEDERATED);
        java.util.Map<String, List<X509Certificate>> out = new java.util.TreeMap<>();
        if (!Files.isDirectory(fed)) {
            return out;
        }
        try (var files = Files.list(fed)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (name.endsWith(".pem")) {
                    try {
                        out.put(name.substring(0, name.length() - 4), certificates(read(p)));
                    } catch (GeneralSecurityException e) {
                        throw new IOException(p + ": " + e.getMessage(), e);
                    }
                }
            }
        }
        return out;
    }

    public void save(PrivateKey key, String svidPem, String bundlePem) throws IOException {
        // Key first: a crash between the writes leaves a new key with an old certificate, which fails the
        // pairing check and re-enrolls, never a certificate with a key that does not match silently.
        AtomicFiles.writePrivate(keyFile(), Pem.encode("PRIVATE KEY", key.getEncoded()));
        AtomicFiles.writePrivate(svidFile(), svidPem);
        AtomicFiles.writePrivate(bundleFile(), bundlePem);
    }

    private static String read(Path p) throws IOException {
        if (Files.size(p) > MAX_PEM) {
            throw new IOException(p + " is over " + MAX_PEM + " bytes");
        }
        return Files.readString(p, StandardCharsets.US_ASCII);
    }

    static PrivateKey readKey(String pem) throws GeneralSecurityException {
        byte[] der = Pem.decode(pem, "PRIVATE KEY");
        if (der == null) {
            throw new GeneralSecurityException("no PRIVATE KEY block");
        }
        try {
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        }
    }

    public static List<X509Certificate> certificates(String pem) throws GeneralSecurityException {
        List<X509Certificate> out = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
            out.add((X509Certificate) c);
        }
        return out;
    }
}
