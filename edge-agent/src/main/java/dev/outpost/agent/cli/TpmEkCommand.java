package dev.outpost.agent.cli;

import java.io.PrintWriter;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.keys.TpmKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ek", mixinStandardHelpOptions = true,
        description = "Show the endorsement key: device id, key type, public key and certificate.")
final class TpmEkCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--tpm", required = true, description = "TPM URI: swtpm:tcp://HOST:PORT, swtpm:unix:///PATH, device:/dev/tpmrm0")
    String tpmUri;

    @Option(names = "--type", description = "EK template: rsa2048, p256 or p384 (default: the first with a certificate, else rsa2048)")
    String type;

    @Option(names = "--json", description = "Print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Tpm2 tpm = Tpm2.open(tpmUri)) {
            EkTemplate template = type != null ? EkTemplate.parse(type) : firstWithCertificate(tpm);
            Optional<byte[]> certDer = Endorsement.readCertificate(tpm, template.certIndex());
            try (TpmKey ek = Endorsement.load(tpm, template)) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("deviceId", DeviceId.of(ek.pub().publicKey()));
                out.put("template", template.name());
                out.put("keyType", ek.pub().describeKey());
                out.put("publicKeyPem", Pem.publicKey(ek.pub().publicKey()));
                if (certDer.isPresent()) {
                    X509Certificate cert = Endorsement.parseCertificate(certDer.get());
                    out.put("certificateIndex", String.format("0x%08x", template.certIndex()));
                    out.put("certificateMatchesKey", Endorsement.certifies(cert, ek.pub().publicKey()));
                    out.put("certificateIssuer", cert.getIssuerX500Principal().getName());
                    out.put("certificatePem", Pem.certificate(cert));
                }
                print(out);
            }
        }
        return 0;
    }

    private static EkTemplate firstWithCertificate(Tpm2 tpm) {
        for (EkTemplate t : EkTemplate.values()) {
            if (Endorsement.readCertificate(tpm, t.certIndex()).isPresent()) {
                return t;
            }
        }
        return EkTemplate.RSA_2048;
    }

    private void print(Map<String, Object> out) throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            w.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
        } else {
            out.forEach((k, v) -> w.println(k + ": " + v));
        }
        w.flush();
    }
}
