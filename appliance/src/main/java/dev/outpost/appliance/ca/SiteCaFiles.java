package dev.outpost.appliance.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.spiffe.KeyFiles;
import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.X509Certs;
import dev.outpost.tpm.keys.Pem;

/**
 * The site CA on disk: {@code ca.key} (as {@link CaKeys} keeps it), {@code ca.crt} (our certificate, then the chain
 * above it) and, for a nested CA, {@code upstream-roots.pem}. Everything read is checked before a {@link SiteCa} is
 * made of it (the key is the certificate's, a CA certificate of the configured trust domain, a chain that verifies,
 * roots that signed its top); a self-signed CA is made only where neither the key nor the certificate exists.
 * File I/O and key generation: on a worker.
 */
final class SiteCaFiles {
    private static final Logger LOG = LoggerFactory.getLogger(SiteCa.class);
    private static final int MAX_FILE_BYTES = 64 * 1024;
    private static final int MAX_CHAIN = 8;

    private SiteCaFiles() {
    }

    /** See {@link SiteCa#loadOrCreate(Path, CaKeys, String, String, Duration, Clock)}. */
    static SiteCa loadOrCreate(Path caDir, CaKeys keys, String trustDomain, String siteName, Duration caTtl,
            Clock clock) {
        SpiffeId.checkTrustDomain(trustDomain);
        Path keyFile = caDir.resolve(keys.fileName(SiteCa.KEY_FILE));
        Path certFile = caDir.resolve(SiteCa.CERT_FILE);
        boolean haveKey = CaKeys.exists(caDir, SiteCa.KEY_FILE);
        boolean haveCert = Files.exists(certFile);
        try {
            if (!haveKey && !haveCert) {
                return create(caDir, keys, trustDomain, siteName, caTtl, clock);
            }
            if (!haveKey) {
                throw new CaException(certFile + " exists but " + keyFile + " does not: restore the key or move the certificate away");
            }
            if (!haveCert) {
                throw new CaException(keyFile + " exists but " + certFile + " does not: restore the certificate or move the key away");
            }
            return load(caDir, keys, certFile, trustDomain, clock);
        } catch (CaKeys.Unsealable e) {
            throw e;
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new CaException("site CA in " + caDir + ": " + e.getMessage(), e);
        }
    }

    private static SiteCa create(Path caDir, CaKeys keys, String trustDomain, String siteName, Duration caTtl, Clock clock)
            throws IOException, GeneralSecurityException {
        if (caTtl == null || caTtl.isNegative() || caTtl.isZero()) {
            throw new CaException("CA ttl must be positive, got " + caTtl);
        }
        if (!Files.isDirectory(caDir)) {
            Files.createDirectories(caDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        SecureRandom random = new SecureRandom();
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"), random);
        KeyPair pair = gen.generateKeyPair();

        X509Certificate cert = SiteCa.selfSign(pair, trustDomain, siteName, caTtl, clock);

        // Key first: a crash between the two writes leaves a lone key, which loadOrCreate reports, rather than
        // a certificate whose key is gone for good.
        keys.write(caDir, SiteCa.KEY_FILE, pair.getPrivate());
        KeyFiles.writePublic(caDir.resolve(SiteCa.CERT_FILE), PemIo.ascii(Pem.certificate(cert)));
        LOG.info("created site CA for {} ({}), valid until {}; key protection: {}", trustDomain,
                cert.getSubjectX500Principal(), cert.getNotAfter().toInstant(), keys.describe());
        return new SiteCa(pair.getPrivate(), List.of(cert), List.of(), trustDomain, clock, random);
    }

    /** See {@link SiteCa#load(Path, CaKeys, String, Clock)}. */
    static SiteCa load(Path caDir, CaKeys keys, String trustDomain, Clock clock) {
        SpiffeId.checkTrustDomain(trustDomain);
        try {
            return load(caDir, keys, caDir.resolve(SiteCa.CERT_FILE), trustDomain, clock);
        } catch (CaKeys.Unsealable e) {
            throw e;
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new CaException("site CA in " + caDir + ": " + e.getMessage(), e);
        }
    }

    private static SiteCa load(Path caDir, CaKeys keys, Path certFile, String trustDomain, Clock clock)
            throws IOException, GeneralSecurityException {
        Path keyFile = caDir.resolve(keys.fileName(SiteCa.KEY_FILE));
        long t0 = System.nanoTime();
        PrivateKey key = keys.read(caDir, SiteCa.KEY_FILE);
        if (keys.sealed()) {
            LOG.info("unsealed the site CA key {} in {} ms: key protection {}", keyFile,
                    (System.nanoTime() - t0) / 1_000_000, keys.describe());
        }

        String certPem = new String(KeyFiles.readLimited(certFile, MAX_FILE_BYTES), StandardCharsets.US_ASCII);
        List<X509Certificate> chain = PemIo.certificates(certPem, MAX_CHAIN);
        if (chain.isEmpty()) {
            throw new CaException(certFile + " holds no PEM certificate");
        }
        X509Certificate cert = chain.get(0);
        if (!X509Certs.belongTogether(key, cert.getPublicKey())) {
            throw new CaException(keyFile + " is not the key of the certificate in " + certFile);
        }
        if (cert.getBasicConstraints() < 0) {
            throw new CaException(certFile + ": certificate is not a CA (basicConstraints cA=false)");
        }
        String found = SiteCa.trustDomainOf(cert);
        if (!trustDomain.equals(found)) {
            throw new CaException(certFile + " is a CA for trust domain '" + found + "' but the configuration says '"
                    + trustDomain + "'");
        }
        for (int i = 0; i + 1 < chain.size(); i++) {
            try {
                chain.get(i).verify(chain.get(i + 1).getPublicKey());
            } catch (GeneralSecurityException e) {
                throw new CaException(certFile + ": certificate " + (i + 1) + " is not signed by certificate " + (i + 2), e);
            }
        }
        List<X509Certificate> roots = List.of();
        Path rootsFile = certFile.resolveSibling(SiteCa.UPSTREAM_ROOTS_FILE);
        if (Files.exists(rootsFile)) {
            roots = PemIo.certificates(new String(KeyFiles.readLimited(rootsFile, MAX_FILE_BYTES),
                    StandardCharsets.US_ASCII), MAX_CHAIN);
            X509Certificate top = chain.get(chain.size() - 1);
            if (!X509Certs.isSelfSigned(top) && roots.stream().noneMatch(r -> X509Certs.issuedBy(top, r))) {
                throw new CaException(rootsFile + " holds no root that signed " + top.getSubjectX500Principal()
                        + ": devices given these roots could not verify the site's SVIDs");
            }
        }
        if (roots.isEmpty() && !X509Certs.isSelfSigned(chain.get(chain.size() - 1))) {
            throw new CaException(certFile + " is a CA signed upstream but " + rootsFile + " (the root(s) devices "
                    + "trust) is missing: put it back (the root certificate(s) given to ca install as --chain)");
        }
        Instant now = clock.instant();
        if (!now.isBefore(cert.getNotAfter().toInstant())) {
            // Not a reason to refuse to start: the store (every device's enrollment and state) is intact and a new
            // CA installed over this one lets devices resume. Readiness says "ca expired" and issuance refuses.
            LOG.error("site CA {} EXPIRED at {}: no identities can be issued until a new CA is installed "
                    + "(outpost-appliance ca csr, then ca install)", certFile, cert.getNotAfter().toInstant());
        } else {
            LOG.info("loaded site CA for {} ({}), valid until {}", trustDomain, cert.getSubjectX500Principal(),
                    cert.getNotAfter().toInstant());
        }
        return new SiteCa(key, chain, roots, trustDomain, clock, new SecureRandom());
    }
}
