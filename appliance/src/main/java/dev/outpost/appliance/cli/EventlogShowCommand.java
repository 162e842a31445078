package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventDigest;
import dev.outpost.tpm.eventlog.EventLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code eventlog show}: every event of a boot log, decoded for a person to read. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Print every event of a boot event log with its digests and decoded data.")
final class EventlogShowCommand implements Callable<Integer> {
    /** Short payloads are shown in hex as well, since their decoded form may hide bytes that matter. */
    private static final int HEX_DATA_MAX = 64;

    @Spec
    CommandSpec spec;

    @Option(names = "--log", required = true, paramLabel = "FILE", description = "Binary or base64 event log.")
    Path log;

    @Option(names = "--base64", description = "The file is base64 (detected automatically otherwise).")
    boolean base64;

    @Option(names = "--json", description = "Print JSON: every event with its digests, its data (hex) and decoded text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        EventLog parsed = EventLogFiles.load(log, base64);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsString(toJson(parsed)));
            out.flush();
            return 0;
        }
        out.printf("format: %s, %d events%n", parsed.format() == EventLog.Format.CRYPTO_AGILE ? "crypto-agile"
                : "legacy SHA-1", parsed.events().size());
        for (Event e : parsed.events()) {
            out.println();
            out.printf("event %d (offset %d)%n", e.index(), e.offset());
            out.printf("  pcr: %s%n", e.pcrText());
            out.printf("  type: %s (0x%08x)%n", e.typeName(), e.rawType());
            for (EventDigest d : e.digests()) {
                out.printf("  %s: %s%n", d.algName(), HexFormat.of().formatHex(d.value()));
            }
            byte[] data = e.data();
            out.printf("  data: %d bytes%s%n", data.length,
                    data.length > 0 && data.length <= HEX_DATA_MAX ? " " + HexFormat.of().formatHex(data) : "");
            out.println("  decoded: " + indent(e.decoded().describe()));
        }
        out.flush();
        return 0;
    }

    private static java.util.Map<String, Object> toJson(EventLog parsed) {
        java.util.List<Object> events = new java.util.ArrayList<>();
        for (Event e : parsed.events()) {
            java.util.Map<String, Object> digests = new java.util.LinkedHashMap<>();
            for (EventDigest d : e.digests()) {
                digests.put(d.algName(), HexFormat.of().formatHex(d.value()));
            }
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("index", e.index());
            m.put("offset", e.offset());
            m.put("pcr", e.pcrText());
            m.put("type", e.typeName());
            m.put("rawType", e.rawType());
            m.put("digests", digests);
            m.put("dataBytes", e.data().length);
            m.put("data", HexFormat.of().formatHex(e.data()));
            m.put("decoded", e.decoded().describe());
            events.add(m);
        }
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("format", parsed.format() == EventLog.Format.CRYPTO_AGILE ? "crypto-agile" : "legacy-sha1");
        out.put("events", events);
        return out;
    }

    /** Log strings come from the device: control characters are escaped so they cannot drive the terminal. */
    private static String indent(String text) {
        return text.lines().map(EventlogShowCommand::escapeControls).collect(Collectors.joining("\n    "));
    }

    private static String escapeControls(String line) {
        StringBuilder sb = new StringBuilder(line.length());
        line.codePoints().forEach(c -> {
            if (Character.isISOControl(c) && c != '\t') {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }
}
