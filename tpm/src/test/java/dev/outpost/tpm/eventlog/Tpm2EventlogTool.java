package dev.outpost.tpm.eventlog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the real tpm2_eventlog and reads the pcrs: section of its YAML. */
final class Tpm2EventlogTool {
    private static final Pattern VERSION = Pattern.compile("version=\"(\\d+)\\.(\\d+)");
    private static final Pattern PCR_LINE = Pattern.compile("^\\s+(\\d+)\\s*:\\s*0x([0-9a-fA-F]+)\\s*$");
    private static final Pattern BANK_LINE = Pattern.compile("^  ([a-z0-9_]+):\\s*$");

    private Tpm2EventlogTool() {
    }

    /** Major*100+minor, or -1 when the tool is not installed. */
    static int version() {
        try {
            Result r = run(List.of("tpm2_eventlog", "--version"));
            Matcher m = VERSION.matcher(r.stdout);
            return m.find() ? Integer.parseInt(m.group(1)) * 100 + Integer.parseInt(m.group(2)) : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    static Map<String, Map<Integer, String>> pcrs(Path log, boolean eventlogVersion2) throws IOException {
        List<String> cmd = eventlogVersion2 ? List.of("tpm2_eventlog", "--eventlog-version=2", log.toString())
                : List.of("tpm2_eventlog", log.toString());
        Result r = run(cmd);
        if (r.rc != 0) {
            throw new IOException("tpm2_eventlog rc=" + r.rc + ": " + r.stderr);
        }
        return parsePcrs(r.stdout);
    }

    static Map<String, Map<Integer, String>> parsePcrs(String yaml) {
        Map<String, Map<Integer, String>> out = new LinkedHashMap<>();
        boolean inPcrs = false;
        Map<Integer, String> bank = null;
        for (String line : yaml.split("\n")) {
            if (line.equals("pcrs:")) {
                inPcrs = true;
                continue;
            }
            if (!inPcrs) {
                continue;
            }
            if (!line.startsWith(" ")) {
                break;
            }
            Matcher b = BANK_LINE.matcher(line);
            Matcher p = PCR_LINE.matcher(line);
            if (b.matches()) {
                bank = out.computeIfAbsent(b.group(1), k -> new TreeMap<>());
            } else if (p.matches() && bank != null) {
                bank.put(Integer.parseInt(p.group(1)), p.group(2).toLowerCase());
            }
        }
        return out;
    }

    private record Result(int rc, String stdout, String stderr) {
    }

    private static Result run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("tpm2_eventlog timed out");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                    new String(err, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
