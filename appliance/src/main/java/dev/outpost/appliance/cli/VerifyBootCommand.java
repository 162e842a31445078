package dev.outpost.appliance.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.ima.boot.BootFailure;
import dev.outpost.ima.boot.BootPolicy;
import dev.outpost.ima.boot.BootPolicyEvaluator;
import dev.outpost.ima.boot.BootPolicyJson;
import dev.outpost.ima.boot.BootPolicyResult;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrValues;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Offline check of a UEFI boot event log against a measured-boot policy and, optionally, quoted PCR values. */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = "Verify a UEFI boot event log against a measured-boot policy. Exit 0 pass, 1 fail,"
                + " 2 unusable input.")
final class VerifyBootCommand implements Callable<Integer> {
    static final int EXIT_FAIL = 1;
    /** A PCR file holds at most 24 PCRs in a few banks; anything bigger is not one. */
    private static final long MAX_PCR_FILE = 1 << 16;

    @Spec
    CommandSpec spec;

    @Option(names = "--policy", required = true, description = "Measured-boot policy JSON")
    Path policy;

    @Option(names = "--eventlog", required = true, description = "binary_bios_measurements (binary or base64)")
    Path eventlog;

    @Option(names = "--pcrs", description = "PCR values in tpm2-tools' PCR file format (tpm2_quote -o, tpm2_pcrread -o)."
            + " Without it the log's content is checked but nothing proves the machine booted it.")
    Path pcrs;

    @Option(names = "--json", description = "Print the result as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        BootPolicy p;
        try (InputStream in = Files.newInputStream(existing(policy))) {
            p = new BootPolicyJson().read(in);
        }
        EventLog log = EventLogFiles.load(eventlog, false);
        PcrValues quoted = null;
        if (pcrs != null) {
            if (Files.size(existing(pcrs)) > MAX_PCR_FILE) {
                throw new IllegalArgumentException(pcrs + " is larger than " + MAX_PCR_FILE + " bytes");
            }
            quoted = PcrFile.read(Files.readAllBytes(pcrs));
        }
        BootPolicyResult r = BootPolicyEvaluator.evaluate(p, log, quoted);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(r));
        } else {
            out.printf("%s: %d events read, %s%n", r.passed() ? "PASS" : "FAIL", r.eventsRead(),
                    r.pcrsChecked() ? "log replayed against the PCR values"
                            : "PCRs not checked (offline: the log's content only)");
            for (BootFailure f : r.failures()) {
                out.printf("  %s %s%s%n", f.id(), f.eventIndex() < 0 ? "" : "event " + f.eventIndex() + ": ",
                        f.message());
            }
        }
        out.flush();
        return r.passed() ? 0 : EXIT_FAIL;
    }

    static Path existing(Path p) {
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("cannot read " + p + ": no such file");
        }
        return p;
    }

    private static String toJson(BootPolicyResult r) throws Exception {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("verdict", r.passed() ? "pass" : "fail");
        o.put("eventsRead", r.eventsRead());
        o.put("pcrsChecked", r.pcrsChecked());
        ArrayNode fs = o.putArray("failures");
        for (BootFailure f : r.failures()) {
            ObjectNode fo = fs.addObject();
            fo.put("index", f.eventIndex());
            fo.put("id", f.id());
            fo.put("message", f.message());
        }
        return m.writeValueAsString(o);
    }
}
