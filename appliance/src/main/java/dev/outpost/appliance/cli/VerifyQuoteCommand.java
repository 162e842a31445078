package dev.outpost.appliance.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.quote.QuoteResult;
import dev.outpost.tpm.quote.QuoteVerifier;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "quote", mixinStandardHelpOptions = true,
        description = "Verify a TPM2_Quote. Exit 0 valid, 1 invalid (with the reason), 2 unusable input.")
final class VerifyQuoteCommand implements Callable<Integer> {
    private static final int MAX_FILE = 64 * 1024;

    @Spec
    CommandSpec spec;

    @Option(names = "--ak", required = true, description = "Attestation key: ak.pub (TPM2B_PUBLIC) or ak.pem")
    Path ak;

    @Option(names = "--msg", required = true, description = "TPMS_ATTEST (tpm2_quote -m)")
    Path msg;

    @Option(names = "--sig", required = true, description = "TPMT_SIGNATURE (tpm2_quote -s)")
    Path sig;

    @Option(names = "--pcrs", required = true, description = "PCR file (tpm2_quote -o)")
    Path pcrs;

    @Option(names = "--nonce", required = true, description = "The nonce that was asked for, hex")
    String nonceHex;

    @Option(names = "--pcr-list", description = "The PCR selection that was asked for (default: the PCR file's)")
    String pcrList;

    @Option(names = "--ek", description = "EK the AK was created under (TPM2B_PUBLIC): checks qualifiedSigner")
    Path ek;

    @Option(names = "--json", description = "Print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Object akKey = Pem.readKeyFile(read(ak), ak.toString());
        PcrValues values;
        try {
            values = PcrFile.read(read(pcrs));
        } catch (TpmFormatException e) {
            throw new IOException(pcrs + ": " + e.getMessage(), e);
        }
        byte[] nonce = hex(nonceHex, "--nonce");
        PcrSelection asked = pcrList != null ? PcrSelection.parse(pcrList) : values.selection();
        byte[] signerQn = null;
        if (ek != null) {
            if (!(akKey instanceof TpmPublic akPub)) {
                throw new IllegalArgumentException("--ek needs the AK as TPM2B_PUBLIC (ak.pub), not PEM: its Name is hashed from it");
            }
            signerQn = QualifiedName.ofAkUnderEk(readTpmPublic(ek), akPub);
        }
        QuoteExpectation expected = akKey instanceof TpmPublic t
                ? QuoteExpectation.of(t, signerQn, nonce, asked)
                : new QuoteExpectation((PublicKey) akKey, null, null, nonce, asked);
        QuoteResult result = new QuoteVerifier().verify(expected, read(msg), read(sig), values);
        report(result, akKey, signerQn != null);
        return result.isValid() ? 0 : 1;
    }

    private void report(QuoteResult r, Object akKey, boolean signerChecked) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("valid", r.isValid());
        if (!r.isValid()) {
            out.put("reason", r.failure().name());
            out.put("detail", r.detail());
        }
        if (akKey instanceof TpmPublic t) {
            String problem = AttestationKey.attributeProblem(t);
            out.put("akAttributes", problem == null ? "ok" : problem);
        }
        out.put("signerChecked", signerChecked);
        if (r.attest() != null) {
            out.put("clock", r.attest().clockInfo().clock());
            out.put("resetCount", Integer.toUnsignedLong(r.attest().clockInfo().resetCount()));
            out.put("restartCount", Integer.toUnsignedLong(r.attest().clockInfo().restartCount()));
            out.put("safe", r.attest().clockInfo().safe());
            if (r.attest().pcrSelect() != null) {
                out.put("pcrSelection", r.attest().pcrSelect().toString());
            }
        }
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            w.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
        } else {
            w.println(r.isValid() ? "quote valid" : "quote INVALID: " + r.describe());
            if (!signerChecked) {
                w.println("note: qualifiedSigner not checked (give --ek with ak.pub to check it)");
            }
        }
        w.flush();
    }

    static byte[] read(Path p) throws IOException {
        long size = Files.size(p);
        if (size > MAX_FILE) {
            throw new IOException(p + ": " + size + " bytes, over the " + MAX_FILE + " limit");
        }
        return Files.readAllBytes(p);
    }

    static TpmPublic readTpmPublic(Path p) throws IOException {
        try {
            return TpmPublic.parseSized(read(p));
        } catch (TpmFormatException e) {
            throw new IOException(p + ": " + e.getMessage(), e);
        }
    }

    static byte[] hex(String s, String what) {
        try {
            return HexFormat.of().parseHex(s.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not hex: " + e.getMessage());
        }
    }
}
