package dev.outpost.tpm.eventlog;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import dev.outpost.tpm.HashAlg;

/** The shared third-party corpus (system property outpost.testdata) and the expectations its README states. */
final class TestData {
    /** Files under eventlogs/ that are not logs with measurements, per the README. */
    static final List<String> NOT_MEASURED = List.of("keylime/binary_bios_measurements-bogus",
            "keylime/binary_bios_measurements-empty", "go-attestation/short_no_action_eventlog");

    private TestData() {
    }

    static Path dir() {
        String p = System.getProperty("outpost.testdata");
        assumeTrue(p != null && Files.isDirectory(Path.of(p, "eventlogs")), "testdata corpus not present");
        return Path.of(p);
    }

    static boolean present() {
        String p = System.getProperty("outpost.testdata");
        return p != null && Files.isDirectory(Path.of(p, "eventlogs"));
    }

    /** Paths relative to eventlogs/, e.g. "tpm2-tools/event-uefivar.bin", of the 20 logs with measurements. */
    static Stream<String> measuredLogs() {
        if (!present()) {
            return Stream.of();
        }
        Path root = Path.of(System.getProperty("outpost.testdata"), "eventlogs");
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile)
                    .map(p -> root.relativize(p).toString().replace('\\', '/'))
                    .filter(n -> !n.endsWith(".yaml") && !n.endsWith(".warn") && !NOT_MEASURED.contains(n))
                    .sorted().toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] log(String name) throws IOException, EventLogException {
        byte[] raw = Files.readAllBytes(dir().resolve("eventlogs").resolve(name));
        return EventLogInput.fromFile(raw, false, Limits.DEFAULT);
    }

    /** The first "| PCR | sha1 | ..." table under the README heading for this file: bank → PCR → hex. */
    static Map<String, Map<Integer, String>> readmeTable(String name) throws IOException {
        List<String> lines = Files.readAllLines(dir().resolve("README.md"));
        int i = lines.indexOf("#### `eventlogs/" + name + "`");
        if (i < 0) {
            throw new IllegalStateException("README has no section for " + name);
        }
        while (!lines.get(i).startsWith("| PCR |")) {
            i++;
        }
        String[] header = cells(lines.get(i));
        Map<String, Map<Integer, String>> out = new LinkedHashMap<>();
        for (i += 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            String[] row = cells(lines.get(i));
            for (int c = 1; c < header.length; c++) {
                out.computeIfAbsent(header[c], k -> new TreeMap<>())
                        .put(Integer.parseInt(row[0]), row[c].replace("`", ""));
            }
        }
        return out;
    }

    private static String[] cells(String line) {
        String t = line.trim();
        return Stream.of(t.substring(1, t.length() - 1).split("\\|")).map(String::trim).toArray(String[]::new);
    }

    /** Our replay in the same shape as the references: bank name → PCR → lowercase hex. */
    static Map<String, Map<Integer, String>> asHex(ReplayResult r) {
        Map<String, Map<Integer, String>> out = new LinkedHashMap<>();
        for (HashAlg alg : r.banks()) {
            Map<Integer, String> pcrs = new TreeMap<>();
            r.pcrs(alg).forEach((k, v) -> pcrs.put(k, HexFormat.of().formatHex(v)));
            out.put(alg.tpmName(), pcrs);
        }
        return out;
    }
}
