package dev.outpost.appliance.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ch.qos.logback.classic.Level;

/**
 * `outpost-appliance run` in a child process, as systemd starts it, with each log format: every line it writes
 * parses as that format says, and the service logs its start at INFO.
 */
class LogFormatProcessTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void jsonLinesParseWithJackson(@TempDir Path dir) throws Exception {
        List<String> lines = runAppliance(dir, Map.of("OUTPOST_LOG_FORMAT", "json"));
        for (String line : lines) {
            JsonNode n = JSON.readTree(line);
            assertThat(n.path("level").asText()).as(line).isIn("ERROR", "WARN", "INFO", "DEBUG", "TRACE");
            assertThat(n.path("loggerName").asText()).as(line).isNotEmpty();
            assertThat(n.has("formattedMessage")).as(line).isTrue();
        }
        assertThat(lines).anySatisfy(l -> {
            JsonNode n = JSON.readTree(l);
            assertThat(n.path("level").asText()).isEqualTo("INFO");
            assertThat(n.path("formattedMessage").asText()).startsWith("appliance up");
        });
    }

    @Test
    void journalLinesCarryTheSyslogPriority(@TempDir Path dir) throws Exception {
        List<String> lines = runAppliance(dir, Map.of("OUTPOST_LOG_FORMAT", "journal"));
        assertJournal(lines);
    }

    @Test
    void journalIsTheDefaultUnderSystemdJournal(@TempDir Path dir) throws Exception {
        // What systemd sets when a service's output goes to the journal.
        List<String> lines = runAppliance(dir, Map.of("JOURNAL_STREAM", "8:12345"));
        assertJournal(lines);
    }

    @Test
    void textIsTheDefaultOtherwise(@TempDir Path dir) throws Exception {
        List<String> lines = runAppliance(dir, Map.of());
        for (String line : lines) {
            assertThat(line).as(line).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (ERROR|WARN |INFO |DEBUG|TRACE) .*");
        }
        assertThat(lines).anyMatch(l -> l.contains(" INFO ") && l.contains("appliance up"));
    }

    @Test
    void prefixesFollowSyslogSeverities() {
        assertThat(SyslogPrefixConverter.prefix(Level.ERROR)).isEqualTo("<3>");
        assertThat(SyslogPrefixConverter.prefix(Level.WARN)).isEqualTo("<4>");
        assertThat(SyslogPrefixConverter.prefix(Level.INFO)).isEqualTo("<6>");
        assertThat(SyslogPrefixConverter.prefix(Level.DEBUG)).isEqualTo("<7>");
        assertThat(SyslogPrefixConverter.prefix(Level.TRACE)).isEqualTo("<7>");
    }

    private static void assertJournal(List<String> lines) {
        for (String line : lines) {
            assertThat(line).as(line).matches("<[3467]>(ERROR|WARN |INFO |DEBUG|TRACE) .*");
            String level = line.substring(3, 8).trim();
            assertThat(line.substring(0, 3)).as(line).isEqualTo(SyslogPrefixConverter.prefix(Level.toLevel(level)));
        }
        assertThat(lines).anyMatch(l -> l.startsWith("<6>INFO ") && l.contains("appliance up"));
    }

    /** Starts the service, waits for its start line, stops it with SIGTERM; returns what it wrote to stderr. */
    private static List<String> runAppliance(Path dir, Map<String, String> env) throws Exception {
        Path config = dir.resolve("appliance.yaml");
        Files.writeString(config, String.join("\n",
                "trustDomain: outpost.test",
                "site: log-test",
                "dataDir: " + dir.resolve("data"),
                "runtimeDir: " + dir.resolve("run"),
                "mqtt:",
                "  host: 127.0.0.1",
                "  port: 0",
                "metrics:",
                "  host: 127.0.0.1",
                "  port: 0",
                ""));
        Path err = dir.resolve("stderr.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.outpost.appliance.cli.ApplianceCli", "run",
                "--config", config.toString())
                .redirectError(err.toFile())
                .redirectOutput(dir.resolve("stdout.log").toFile());
        pb.environment().remove("OUTPOST_LOG_FORMAT");
        pb.environment().remove("OUTPOST_LOG_LEVEL");
        pb.environment().remove("JOURNAL_STREAM");
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!read(err).contains("appliance up")) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("the appliance did not start:\n" + read(err));
                }
                Thread.sleep(100);
            }
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        List<String> lines = Files.readAllLines(err).stream().filter(l -> !l.isEmpty()).toList();
        // stdout is the CLI's data channel: logback must not print its configuration status there.
        assertThat(read(dir.resolve("stdout.log"))).isEmpty();
        // The shutdown was logged too, in the same format.
        assertThat(String.join("\n", lines)).contains("database closed");
        return lines;
    }

    private static String read(Path f) throws IOException {
        return Files.exists(f) ? Files.readString(f) : "";
    }
}
