package dev.outpost.central;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import dev.outpost.spiffe.PemIo;
import dev.outpost.tpm.keys.Pem;

/** A stand-in for the web PKI: a root and a server certificate for localhost, as https_web's configured cert. */
public record WebPki(Path rootPem, Path certPem, Path keyPem) {

    public static WebPki make(Path dir) throws Exception {
        Files.createDirectories(dir);
        KeyPair rootKey = Csrs.ecKey();
        X500Name rootName = new X500Name("CN=Test Web Root");
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder rb = new JcaX509v3CertificateBuilder(rootName, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(30, ChronoUnit.DAYS)), rootName, rootKey.getPublic());
        rb.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        rb.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign));
        X509Certificate root = sign(rb, rootKey);
        KeyPair leafKey = Csrs.ecKey();
        JcaX509v3CertificateBuilder lb = new JcaX509v3CertificateBuilder(root, BigInteger.valueOf(now.toEpochMilli() + 1),
                Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(30, ChronoUnit.DAYS)), new X500Name("CN=localhost"),
                leafKey.getPublic());
        lb.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, "localhost")));
        X509Certificate leaf = sign(lb, rootKey);
        WebPki p = new WebPki(dir.resolve("web-root.pem"), dir.resolve("web.pem"), dir.resolve("web.key"));
        Files.writeString(p.rootPem(), PemIo.encode(List.of(root)));
        Files.writeString(p.certPem(), PemIo.encode(List.of(leaf)));
        Files.writeString(p.keyPem(), Pem.encode("PRIVATE KEY", leafKey.getPrivate().getEncoded()));
        return p;
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder b, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }
}
