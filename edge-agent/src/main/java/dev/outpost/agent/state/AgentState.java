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

import java.security.SignatureException;

import dev.outpost.tpm.jca.TpmPrivateKey;
import dev.outpost.tpm.keys.NodeKey;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * The agent's state directory: the AK blobs (written by the tpm module), the node key, the SVID and the bundle. A
 * TPM-held node key is {@code node.tpmkey} (its public area and TPM-wrapped private blob, useless outside this TPM); a
 * software one (only with {@code nodeKey: software}) is {@code node.key} (PKCS#8, 0600). Everything is written
 * atomically, so a power cut never leaves a key without its certificate.
 */
public final class AgentState {
    static final String NODE_KEY = "node.key";
    static final String NODE_TPM_KEY = "node.tpmkey";
    static final String SVID = "svid.pem";
    static final String BUNDLE = "bundle.pem";
    static final String BUNDLE_SEQUENCE = "bundle.sequence";
    static final String FEDERATED = "federated";
    static final String JWT_AUTHORITIES = "jwt-authorities.json";
    private static final int MAX_PEM = 256 * 1024;

    private final Path dir;
    private final TpmSigner signer;

    /** Signs a digest with a TPM-held node key (the agent's DeviceTpm). */
    @FunctionalInterface
    public interface TpmSigner {
        TpmtSignature sign(NodeKey key, byte[] digest, int sigAlg) throws SignatureException;
    }

    /** State read without the TPM: a TPM-held key in it cannot sign. */
    public AgentState(Path dir) {
        this(dir, (key, digest, sigAlg) -> {
            throw new SignatureException("the agent state was opened without its TPM");
        });
    }

    public AgentState(Path dir, TpmSigner signer) {
        this.dir = dir;
        this.signer = signer;
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

    /** The software node key file (PKCS#8); absent when the key is in the TPM. */
    public Path keyFile() {
        return dir.resolve(NODE_KEY);
    }

    /** The TPM-held node key's public area and wrapped private blob. */
    public Path tpmKeyFile() {
        return dir.resolve(NODE_TPM_KEY);
    }

    /**
     * The identity on disk, if the key, SVID and bundle are there and belong together. A TPM-held key whose public
     * key is not the SVID's (a crash between the writes of a renewal) is no identity: the agent enrolls again.
     */
    public Optional<NodeIdentity> identity() throws IOException {
        Optional<NodeIdentity> id = read();
        if (id.isEmpty() && Files.exists(svidFile())) {
            // A reader beside the running agent (status, tests) can fall between a renewal's two writes, key then
            // SVID, which take milliseconds: one look later tells that apart from a crash between them.
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return id;
            }
            id = read();
        }
        return id;
    }

    private Optional<NodeIdentity> read() throws IOException {
        boolean inTpm = Files.exists(tpmKeyFile());
        if ((!inTpm && !Files.exists(keyFile())) || !Files.exists(svidFile()) || !Files.exists(bundleFile())) {
            return Optional.empty();
        }
        try {
            PrivateKey key;
            if (inTpm) {
                NodeKey nodeKey = NodeKey.decode(readBytes(tpmKeyFile()));
                key = TpmPrivateKey.of(nodeKey, (digest, sigAlg) -> signer.sign(nodeKey, digest, sigAlg));
            } else {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(keyFile());
                if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                    throw new IOException(keyFile() + " is readable by others: refusing to use it (chmod 600)");
                }
                key = readKey(read(keyFile()));
            }
            List<X509Certificate> chain = certificates(read(svidFile()));
            List<X509Certificate> bundle = certificates(read(bundleFile()));
            if (chain.isEmpty() || bundle.isEmpty()) {
                return Optional.empty();
            }
            if (key instanceof TpmPrivateKey t
                    && !java.util.Arrays.equals(t.publicKey().getEncoded(), chain.get(0).getPublicKey().getEncoded())) {
                return Optional.empty();
            }
            return Optional.of(new NodeIdentity(key, chain, bundle));
        } catch (GeneralSecurityException | IllegalArgumentException | TpmFormatException e) {
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
        saveBundle(x509Authorities, federated, null, sequence);
    }

    /**
     * As above, with the JWT authorities (trust domain → JWKS JSON) the site bundle carries, or null when it carries
     * none; kept so the Workload API serves and validates JWT-SVIDs after a restart while the appliance is away.
     */
    public void saveBundle(String x509Authorities, java.util.Map<String, String> federated,
            java.util.Map<String, String> jwtAuthorities, long sequence) throws IOException {
        if (jwtAuthorities == null) {
            Files.deleteIfExists(dir.resolve(JWT_AUTHORITIES));
        } else {
            AtomicFiles.writePrivate(dir.resolve(JWT_AUTHORITIES),
                    new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(new java.util.TreeMap<>(jwtAuthorities)));
        }
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

    /** The JWT authorities of the last site bundle, trust domain → JWKS JSON; empty when it carried none. */
    public java.util.Map<String, String> jwtAuthorities() throws IOException {
        Path p = dir.resolve(JWT_AUTHORITIES);
        if (!Files.exists(p)) {
            return java.util.Map.of();
        }
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue(read(p),
                    new com.fasterxml.jackson.core.type.TypeReference<java.util.TreeMap<String, String>>() { });
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(p + ": not a JWT authority map", e);
        }
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

    /**
     * Saves a node key with its SVID. A TPM-held key replaces the previous key's blob (which is then gone: a renewal
     * leaves one key), and any software key file is deleted, and the other way round.
     */
    public void save(PrivateKey key, String svidPem, String bundlePem) throws IOException {
        // Key first: a crash between the writes leaves a new key with an old certificate, which fails the
        // pairing check and re-enrolls, never a certificate with a key that does not match silently.
        boolean inTpm = key instanceof TpmPrivateKey t && t.nodeKey() != null;
        if (inTpm) {
            AtomicFiles.writePrivate(tpmKeyFile(), ((TpmPrivateKey) key).nodeKey().encoded());
        } else {
            AtomicFiles.writePrivate(keyFile(), Pem.encode("PRIVATE KEY", key.getEncoded()));
        }
        AtomicFiles.writePrivate(svidFile(), svidPem);
        AtomicFiles.writePrivate(bundleFile(), bundlePem);
        Files.deleteIfExists(inTpm ? keyFile() : tpmKeyFile());
    }

    private static byte[] readBytes(Path p) throws IOException {
        if (Files.size(p) > MAX_PEM) {
            throw new IOException(p + " is over " + MAX_PEM + " bytes");
        }
        return Files.readAllBytes(p);
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
