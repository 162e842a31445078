package dev.outpost.ima.verify;

import static dev.outpost.ima.verify.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Signature;
import java.util.Base64;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.policy.DsseEnvelope;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.ima.policy.PublicKeys;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.tpm.HashAlg;

class CertificateKeyTest {

    static byte[] cert(KeyPair kp, byte[] ski) throws Exception {
        Date now = new Date();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=ima"),
                new BigInteger(64, RANDOM), new Date(now.getTime() - 60_000), new Date(now.getTime() + 86_400_000L),
                new X500Name("CN=ima"), kp.getPublic());
        b.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(ski));
        String alg = kp.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        return b.build(new JcaContentSignerBuilder(alg).build(kp.getPrivate())).getEncoded();
    }

    @Test
    void certificateOnDotImaUsesItsOwnSubjectKeyIdentifierAsTheKernelDoes() throws Exception {
        KeyPair rsa = rsa();
        byte[] ski = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, (byte) 0xca, (byte) 0xfe, 0x12, 0x34};
        byte[] der = cert(rsa, ski);
        assertThat(KeyIds.keyIdV2(PublicKeys.certificate(der))).isEqualTo(0xcafe1234);
        HashAlg a = HashAlg.SHA256;
        byte[] d = digest(a, "tool");
        Signature s = Signature.getInstance("NONEwithRSA");
        s.initSign(rsa.getPrivate(), RANDOM);
        s.update(ImaSignature.digestInfo(a, d));
        byte[] sig = new ImaSignature(a, 0xcafe1234, s.sign()).encode();
        ImaEntry key = ImaListWriter.imaBuf(0, a, ".ima", der);
        List<ImaEntry> l = List.of(key, ImaListWriter.imaSig(1, a, d, "/usr/bin/tool", sig));
        RuntimePolicy p = allowing(List.of(key), List.of(), "");
        ImaVerificationResult r = new IncrementalImaVerifier(new CompiledPolicy(p)).verify(null, "b",
                new QuotedPcr(HashAlg.SHA1, sha1Pcr(l)), reader(binary(l), 0));
        assertThat(r.failures()).isEmpty();
        assertThat(r.nextState().learnedKeys()).hasSize(1);
    }

    @Test
    void keylimeVerificationKeysWithKeyidsFromCertificates() throws Exception {
        KeyPair ec = ec();
        HashAlg a = HashAlg.SHA384;
        byte[] d = digest(a, "tool");
        Signature s = Signature.getInstance("NONEwithECDSA");
        s.initSign(ec.getPrivate(), RANDOM);
        s.update(d);
        byte[] sig = new ImaSignature(a, 0x0badf00d, s.sign()).encode();
        String ring = "{\"pubkeys\": [\"" + Base64.getEncoder().encodeToString(ec.getPublic().getEncoded())
                + "\"], \"keyids\": [" + 0x0badf00dL + "]}";
        String keys = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put(".ima", ring).toString();
        List<ImaEntry> l = List.of(ImaListWriter.imaSig(0, a, d, "/usr/bin/tool", sig));
        RuntimePolicy p = new dev.outpost.ima.policy.RuntimePolicyJson().read(new dev.outpost.ima.policy.RuntimePolicyJson()
                .write(allowing(List.of(), List.of(), keys)));
        ImaVerificationResult r = new IncrementalImaVerifier(new CompiledPolicy(p)).verify(null, "b",
                new QuotedPcr(HashAlg.SHA1, sha1Pcr(l)), reader(binary(l), 0));
        assertThat(r.failures()).isEmpty();
    }

    @Test
    void dsseEnvelopeVerifiesWithACertificateKey() throws Exception {
        KeyPair ec = ec();
        String pem = "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder().encodeToString(cert(ec, new byte[20])) + "\n-----END CERTIFICATE-----\n";
        byte[] payload = dev.outpost.ima.policy.PolicyJsonTest.OK.getBytes(StandardCharsets.UTF_8);
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(ec.getPrivate(), RANDOM);
        s.update(DsseEnvelope.pae(DsseEnvelope.KEYLIME_PAYLOAD_TYPE, payload));
        String env = "{\"payload\": \"" + Base64.getEncoder().encodeToString(payload) + "\", \"payloadType\": \""
                + DsseEnvelope.KEYLIME_PAYLOAD_TYPE + "\", \"signatures\": [{\"keyid\": \"\", \"sig\": \""
                + Base64.getEncoder().encodeToString(s.sign()) + "\"}]}";
        RuntimePolicy p = PolicyLoader.signedBy(PublicKeys.fromPem(pem)).load(env.getBytes(StandardCharsets.UTF_8));
        assertThat(p.digests()).containsKey("/bin/sh");
    }
}
