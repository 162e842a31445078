package dev.outpost.tpm.quote;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmsAttest;
import dev.outpost.testkit.TestData;

/** Quotes made by real TPMs elsewhere (shared/testdata), with the results their README documents. */
class ThirdPartyQuoteTest {
    private static final Base64.Decoder B64 = Base64.getDecoder();

    @Test
    void goAttestationGcpQuoteVerifies() throws Exception {
        JsonNode d = new ObjectMapper().readTree(TestData.require("quotes/go-attestation/windows_gcp_shielded_vm.json").toFile());
        TpmPublic ak = TpmPublic.parse(B64.decode(d.at("/AK/Public").asText()));
        assertThat(HexFormat.of().formatHex(ak.name()))
                .isEqualTo("000b4ce9b151f75089d74c15dabe9d520cffafbcafd5d43be0aad2e2d88d54717e2e");
        byte[] attest = B64.decode(d.at("/Quote/Quote").asText());
        byte[] sig = B64.decode(d.at("/Quote/Signature").asText());
        PcrValues pcrs = new PcrValues();
        Set<Integer> all = new TreeSet<>();
        for (JsonNode p : d.at("/Log/PCRs")) {
            pcrs.put(HashAlg.SHA1, p.get("Index").asInt(), B64.decode(p.get("Digest").asText()));
            all.add(p.get("Index").asInt());
        }
        Map<HashAlg, Set<Integer>> sel = new LinkedHashMap<>();
        sel.put(HashAlg.SHA1, all);
        // The file has no parent key, so the qualified signer cannot be recomputed: skipped here only.
        QuoteExpectation expected = QuoteExpectation.of(ak, null, new byte[0], PcrSelection.of(sel));
        QuoteResult r = new QuoteVerifier().verify(expected, attest, sig, pcrs);
        assertThat(r.describe()).isEqualTo("valid");
        assertThat(r.attest().clockInfo().clock()).isEqualTo(10257171L);
        assertThat(Integer.toUnsignedLong(r.attest().clockInfo().resetCount())).isEqualTo(1045281252L);

        attest[attest.length - 3] ^= 0x10;
        assertThat(new QuoteVerifier().verify(expected, attest, sig, pcrs).failure()).isEqualTo(QuoteFailure.BAD_SIGNATURE);
    }

    @Test
    void rustKeylimeQuoteStringParsesAndItsPcrBlobMatchesTheDigest() throws Exception {
        Path f = TestData.require("quotes/rust-keylime/test-quote.txt");
        String[] parts = Files.readString(f).trim().substring(1).split(":");
        TpmsAttest attest = TpmsAttest.parse(B64.decode(parts[0]));
        PcrValues values = PcrFile.read(B64.decode(parts[2]));
        assertThat(attest.extraData()).isEqualTo("TEST".getBytes());
        assertThat(attest.pcrSelect()).isEqualTo(PcrSelection.parse("sha1:16"));
        assertThat(values.digest(attest.pcrSelect(), HashAlg.SHA1).orElseThrow()).isEqualTo(attest.pcrDigest());
    }
}
