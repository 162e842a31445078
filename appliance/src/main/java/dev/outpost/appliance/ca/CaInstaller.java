package dev.outpost.appliance.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;

import dev.outpost.spiffe.PemIo;

/**
 * The file flow on a CA directory: {@code ca csr} makes (or reuses) the pending key and writes its request;
 * {@code ca install} checks a signed certificate against it and stores it as the next CA, switching to it at once when
 * there is no usable active CA (first start, or the active one expired). A running appliance does the same through
 * {@link CaRotation}, which also loads the result into memory. Blocking I/O: call on a worker.
 */
public final class CaInstaller {
    static final int MAX_PEM_CHARS = 64 * 1024;
    private static final int MAX_CERTS = 8;

    private final CaFiles files;
    private final String trustDomain;
    private final String site;
    private final Clock clock;

    public CaInstaller(CaFiles files, String trustDomain, String site, Clock clock) {
        this.files = files;
        this.trustDomain = trustDomain;
        this.site = site;
        this.clock = clock;
    }

    /** The CSR of the pending key (made now if there is none, or when {@code newKey}); also kept as next.csr. */
    public String csr(boolean newKey) throws IOException, GeneralSecurityException {
        PrivateKey key = files.nextKey(newKey);
        String pem = CaCsr.pem(key, trustDomain, site);
        files.writeNextCsr(pem);
        return pem;
    }

    /** What {@code ca install} did. */
    public enum Outcome {
        /** The certificate is the active CA now. */
        ACTIVE,
        /** Stored as the next CA; it becomes active when rotation says (1/6 of the current CA's lifetime left). */
        NEXT
    }

    /**
     * Checks {@code certPem} (our certificate, optionally with intermediates) and {@code chainPem} (up to the root)
     * against the pending key; writes nothing unless everything holds.
     */
    public Outcome install(String certPem, String chainPem, boolean activeUsable) throws IOException, GeneralSecurityException {
        InstallCheck.Accepted a = check(certPem, chainPem);
        files.writeNext(a);
        if (!activeUsable) {
            files.switchToNext();
            return Outcome.ACTIVE;
        }
        return Outcome.NEXT;
    }

    InstallCheck.Accepted check(String certPem, String chainPem) throws IOException, GeneralSecurityException {
        if (certPem == null || certPem.length() > MAX_PEM_CHARS || (chainPem != null && chainPem.length() > MAX_PEM_CHARS)) {
            throw new CaException("certificate and chain must be PEM of at most " + MAX_PEM_CHARS + " characters each");
        }
        if (!files.hasNextKey()) {
            throw new CaException("there is no pending CA key in " + files.dir() + ": run `outpost-appliance ca csr` "
                    + "first and have that request signed");
        }
        PrivateKey key = files.nextKey(false);
        List<X509Certificate> certs = parse(certPem, "certificate");
        List<X509Certificate> chain = chainPem == null ? List.of() : parse(chainPem, "chain");
        return InstallCheck.check(key, certs, chain, trustDomain, clock.instant());
    }

    /** Whether the CA directory holds an active CA that can still issue (else an install switches at once). */
    public boolean activeUsable() {
        if (!files.hasActive()) {
            return false;
        }
        try {
            List<X509Certificate> chain = CaFiles.certs(files.path(SiteCa.CERT_FILE));
            return !chain.isEmpty() && clock.instant().isBefore(chain.get(0).getNotAfter().toInstant());
        } catch (IOException | GeneralSecurityException e) {
            return false;
        }
    }

    private static List<X509Certificate> parse(String pem, String what) {
        try {
            List<X509Certificate> certs = PemIo.certificates(pem, MAX_CERTS);
            if (certs.isEmpty() && what.equals("certificate")) {
                throw new CaException("the " + what + " file holds no PEM certificate");
            }
            return certs;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new CaException("the " + what + " file is not PEM certificates: " + e.getMessage(), e);
        }
    }

    static String ascii(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }
}
