package dev.outpost.central;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import dev.outpost.tpm.keys.Pem;

/** CSRs as a site would send them, and as a hostile or confused one would. */
public final class Csrs {
    private Csrs() {
    }

    public static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    public static String plain(KeyPair kp) throws Exception {
        return build(kp, null);
    }

    public static String withSans(KeyPair kp, GeneralName... names) throws Exception {
        ExtensionsGenerator eg = new ExtensionsGenerator();
        eg.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        return build(kp, eg);
    }

    public static String askingForCa(KeyPair kp) throws Exception {
        ExtensionsGenerator eg = new ExtensionsGenerator();
        eg.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        return build(kp, eg);
    }

    private static String build(KeyPair kp, ExtensionsGenerator eg) throws Exception {
        PKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=site"), kp.getPublic());
        if (eg != null) {
            b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, eg.generate());
        }
        return Pem.encode("CERTIFICATE REQUEST", b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())).getEncoded());
    }
}
