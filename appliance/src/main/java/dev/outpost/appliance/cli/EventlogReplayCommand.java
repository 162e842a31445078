package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.PcrReplay;
import dev.outpost.tpm.eventlog.ReplayResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code eventlog replay}: the PCR values a boot log replays to, per bank. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Replay a boot event log into PCR values (only PCRs the log extends are listed).")
final class EventlogReplayCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--log", required = true, paramLabel = "FILE", description = "Binary or base64 event log.")
    Path log;

    @Option(names = "--json", description = "Print {\"banks\":{\"sha256\":{\"0\":\"hex\",...}},...}.")
    boolean json;

    @Option(names = "--base64", description = "The file is base64 (detected automatically otherwise).")
    boolean base64;

    @Override
    public Integer call() throws Exception {
        ReplayResult result = PcrReplay.replay(EventLogFiles.load(log, base64));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(toJson(result)));
        } else {
            printText(result, out);
        }
        out.flush();
        return 0;
    }

    private static Map<String, Object> toJson(ReplayResult r) {
        Map<String, Object> banks = new LinkedHashMap<>();
        for (HashAlg alg : r.banks()) {
            Map<String, String> pcrs = new LinkedHashMap<>();
            r.pcrs(alg).forEach((pcr, v) -> pcrs.put(Integer.toString(pcr), HexFormat.of().formatHex(v)));
            banks.put(alg.tpmName(), pcrs);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("banks", banks);
        root.put("startupLocality", r.startupLocality());
        root.put("skippedAlgorithms", hexIds(r.skippedAlgorithms()));
        return root;
    }

    private static void printText(ReplayResult r, PrintWriter out) {
        if (r.banks().isEmpty()) {
            out.println("no measurements");
        }
        for (HashAlg alg : r.banks()) {
            out.println(alg.tpmName() + ":");
            r.pcrs(alg).forEach((pcr, v) -> out.printf("  %2d: %s%n", pcr, HexFormat.of().formatHex(v)));
        }
        if (r.startupLocality() != 0) {
            out.println("startup locality: " + r.startupLocality());
        }
        if (!r.skippedAlgorithms().isEmpty()) {
            out.println("skipped unknown algorithms: " + String.join(" ", hexIds(r.skippedAlgorithms())));
        }
    }

    private static List<String> hexIds(List<Integer> ids) {
        return ids.stream().map(id -> String.format("0x%04x", id)).toList();
    }
}
