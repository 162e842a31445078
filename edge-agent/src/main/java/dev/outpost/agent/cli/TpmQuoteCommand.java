package dev.outpost.agent.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.quote.Quoter;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "quote", mixinStandardHelpOptions = true,
        description = "Quote PCRs with the attestation key (created under the EK on first use and kept in --state).")
final class TpmQuoteCommand implements Callable<Integer> {
    private static final int MAX_NONCE = 64;

    @Spec
    CommandSpec spec;

    @Option(names = "--tpm", required = true, description = "TPM URI")
    String tpmUri;

    @Option(names = "--state", required = true, description = "State directory holding the attestation key")
    Path state;

    @Option(names = "--nonce", required = true, description = "Nonce, hex")
    String nonceHex;

    @Option(names = "--pcrs", defaultValue = "sha256:0,1,2,3,4,5,6,7,8,9,10", description = "PCR selection (default: ${DEFAULT-VALUE})")
    String pcrs;

    @Option(names = "--out", required = true, description = "Directory for quote.msg, quote.sig, quote.pcrs, ak.pub, ak.pem, ek.pub")
    Path out;

    @Option(names = "--ak", defaultValue = "rsa", description = "Key type of a new attestation key: rsa or ecc")
    String akType;

    @Option(names = "--ek", defaultValue = "rsa2048", description = "EK template the AK lives under: rsa2048, p256, p384")
    String ekType;

    @Option(names = "--json", description = "Print JSON: device id, PCR selection and values, nonce, the files written")
    boolean json;

    @Override
    public Integer call() throws Exception {
        byte[] nonce;
        try {
            nonce = HexFormat.of().parseHex(nonceHex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--nonce is not hex: " + e.getMessage());
        }
        if (nonce.length == 0 || nonce.length > MAX_NONCE) {
            throw new IllegalArgumentException("--nonce must be 1.." + MAX_NONCE + " bytes");
        }
        PcrSelection selection = PcrSelection.parse(pcrs);
        Files.createDirectories(out);
        String deviceId;
        QuoteEvidence q;
        try (Tpm2 tpm = Tpm2.open(tpmUri); TpmKey ek = Endorsement.load(tpm, EkTemplate.parse(ekType))) {
            AttestationKey ak = AttestationKey.loadOrCreate(tpm, ek, AkTemplate.parse(akType), state);
            try (TpmKey loaded = ak.load(tpm, ek)) {
                q = Quoter.quote(tpm, loaded, nonce, selection);
            }
            Files.write(out.resolve("quote.msg"), q.attest());
            Files.write(out.resolve("quote.sig"), q.signature());
            Files.write(out.resolve("quote.pcrs"), PcrFile.write(q.pcrs(), selection));
            Files.write(out.resolve("ak.pub"), ak.pub().encodedSized());
            Files.writeString(out.resolve("ak.pem"), Pem.publicKey(ak.pub().publicKey()));
            Files.write(out.resolve("ek.pub"), ek.pub().encodedSized());
            deviceId = DeviceId.of(ek.pub().publicKey());
        }
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> pcrValues = new LinkedHashMap<>();
            for (HashAlg bank : q.pcrs().banks()) {
                Map<String, String> values = new LinkedHashMap<>();
                q.pcrs().bank(bank).forEach((pcr, v) -> values.put(String.valueOf(pcr), HexFormat.of().formatHex(v)));
                pcrValues.put(bank.tpmName(), values);
            }
            Map<String, Object> files = new LinkedHashMap<>();
            for (String f : new String[] {"quote.msg", "quote.sig", "quote.pcrs", "ak.pub", "ak.pem", "ek.pub"}) {
                files.put(f, out.resolve(f).toString());
            }
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("deviceId", deviceId);
            j.put("pcrSelection", selection.toString());
            j.put("nonce", HexFormat.of().formatHex(nonce));
            j.put("pcrs", pcrValues);
            j.put("files", files);
            w.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(j));
        } else {
            w.println("quote of " + selection + " written to " + out);
        }
        w.flush();
        return 0;
    }
}
