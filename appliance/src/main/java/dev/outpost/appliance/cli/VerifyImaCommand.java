package dev.outpost.appliance.cli;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.FutureTask;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaLists;
import dev.outpost.ima.policy.PolicyLimits;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.ima.policy.PublicKeys;
import dev.outpost.ima.verify.CompiledPolicy;
import dev.outpost.ima.verify.ImaFailure;
import dev.outpost.ima.verify.ImaVerificationResult;
import dev.outpost.ima.verify.IncrementalImaVerifier;
import dev.outpost.ima.verify.QuotedPcr;
import dev.outpost.ima.verify.ViolationHandling;
import dev.outpost.tpm.HashAlg;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Offline check of an IMA list against a runtime policy and, optionally, a quoted PCR 10 value. */
@Command(name = "ima", mixinStandardHelpOptions = true,
        description = "Verify an IMA measurement list (ASCII or binary, detected) against a Keylime runtime policy."
                + " Exit 0 pass, 1 fail, 2 unusable input.")
final class VerifyImaCommand implements Callable<Integer> {
    static final int EXIT_FAIL = 1;

    @Spec
    CommandSpec spec;

    @Option(names = "--policy", required = true, description = "Runtime policy JSON (plain, or DSSE with --policy-key)")
    Path policy;

    @Option(names = "--policy-key", description = "PEM public key or certificate the DSSE-signed policy must verify with")
    Path policyKey;

    @Option(names = "--log", required = true, description = "ascii_runtime_measurements or binary_runtime_measurements")
    Path log;

    @Option(names = "--pcr", description = "Quoted PCR 10 value (hex); the list's longest matching prefix is checked")
    String pcr;

    @Option(names = "--bank", defaultValue = "sha1", description = "PCR bank of --pcr: sha1, sha256, sha384, sha512, sm3_256")
    String bank;

    @Option(names = "--json", description = "Print the result as JSON")
    boolean json;

    @Option(names = "--fail-on-violations", description = "Fail on ToMToU/open-writers violations (event"
            + " ima.validation.tomtou). By default, as in Keylime's verifier, they are replayed and counted and their"
            + " paths are not judged.")
    boolean failOnViolations;

    @Override
    public Integer call() throws Exception {
        HashAlg alg = HashAlg.fromName(bank).filter(a -> a.tpmName().equals(bank.toLowerCase(Locale.ROOT)))
                .orElseThrow(() -> new IllegalArgumentException("unknown bank " + bank));
        // The policy loads on the second core while this thread reads, checks and replays the list; entries wait
        // for it in a bounded queue (IncrementalImaVerifier). A policy error still wins over any list error, as
        // when the policy was loaded first.
        FutureTask<CompiledPolicy> compiled = new FutureTask<>(this::compile);
        Thread loader = new Thread(compiled, "policy-load");
        loader.setDaemon(true);
        loader.start();
        ImaVerificationResult r;
        ImaLists.Format format;
        QuotedPcr quote = null;
        ViolationHandling violations = failOnViolations ? ViolationHandling.FAIL : ViolationHandling.COUNT;
        try {
            if (pcr != null) {
                byte[] v = Hex.decodeOrNull(pcr.trim().toLowerCase(Locale.ROOT));
                if (v == null || v.length != alg.digestSize()) {
                    throw new IllegalArgumentException("--pcr must be " + 2 * alg.digestSize() + " hex digits for "
                            + alg);
                }
                quote = new QuotedPcr(alg, v);
            }
            IncrementalImaVerifier verifier = new IncrementalImaVerifier(compiled, violations,
                    IncrementalImaVerifier.DEFAULT_MAX_PENDING_BYTES);
            try (InputStream raw = Files.newInputStream(log);
                    BufferedInputStream in = new BufferedInputStream(raw, 1 << 16)) {
                format = ImaLists.detect(in);
                if (format == ImaLists.Format.EMPTY) {
                    throw new IllegalArgumentException(log
                            + ": empty IMA list (a booted kernel logs at least boot_aggregate)");
                }
                ImaEntryReader reader = ImaLists.open(in, ImaLimits.DEFAULT, 0);
                r = quote == null ? verifier.verifyWhole(reader, alg) : verifier.verify(null, "", quote, reader);
            }
        } catch (Exception ex) {
            try {
                compiled.get();
            } catch (java.util.concurrent.ExecutionException policyFailed) {
                if (policyFailed.getCause() instanceof Exception pe) {
                    throw pe;
                }
            }
            throw ex;
        }
        if (r.inputError()) {
            throw new IllegalArgumentException(log + ": " + r.failures().get(r.failures().size() - 1).message());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(r, format, alg, quote != null, violations));
        } else {
            out.printf("%s: %d entries read, %d matched, %d violations (%s), PCR 10 (%s) %s%s%n",
                    r.passed() ? "PASS" : "FAIL", r.entriesRead(), r.entriesMatched(), r.violations(),
                    violations == ViolationHandling.FAIL ? "failing" : "counted, not judged", alg,
                    Hex.encode(r.replayedPcr()), quote == null ? " (no quote given)" : "");
            for (ImaFailure f : r.failures()) {
                out.printf("  %s %s%s: %s%n", f.eventId(), f.index() < 0 ? "" : "entry " + f.index() + " ",
                        f.path() == null ? "" : f.path(), f.message());
            }
        }
        out.flush();
        return r.passed() ? 0 : EXIT_FAIL;
    }

    /** Loads and compiles in one pass (no policy model), on the loader thread. */
    private CompiledPolicy compile() throws java.io.IOException {
        List<PublicKey> keys = policyKey == null ? List.of() : PublicKeys.fromPem(Files.readAllBytes(policyKey));
        return CompiledPolicy.load(new PolicyLoader(PolicyLimits.DEFAULT, keys), policy);
    }

    private static String toJson(ImaVerificationResult r, ImaLists.Format format, HashAlg bank, boolean quoted,
            ViolationHandling violations) throws Exception {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("verdict", r.passed() ? "pass" : "fail");
        o.put("format", format.name().toLowerCase(Locale.ROOT));
        o.put("entriesRead", r.entriesRead());
        o.put("entriesMatched", r.entriesMatched());
        o.put("violations", r.violations());
        o.put("violationHandling", violations.name().toLowerCase(Locale.ROOT));
        o.put("bank", bank.tpmName());
        o.put("replayedPcr", Hex.encode(r.replayedPcr()));
        o.put("pcrChecked", quoted);
        if (r.variant() != null) {
            o.put("replayVariant", r.variant().name().toLowerCase(Locale.ROOT));
        }
        o.put("failureCount", r.failureCount());
        ArrayNode fs = o.putArray("failures");
        for (ImaFailure f : r.failures()) {
            ObjectNode fo = fs.addObject();
            fo.put("index", f.index());
            fo.put("path", f.path());
            fo.put("template", f.template());
            fo.put("eventId", f.eventId());
            fo.put("message", f.message());
        }
        return m.writeValueAsString(o);
    }
}
