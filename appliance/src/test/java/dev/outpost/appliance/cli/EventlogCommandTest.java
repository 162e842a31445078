package dev.outpost.appliance.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLogWriter;
import dev.outpost.tpm.eventlog.EventType;
import picocli.CommandLine;

/** Runs {@code eventlog replay|show} in-process on a synthetic log. */
class EventlogCommandTest {
    private static final byte[] ACTION = "Calling EFI Application from Boot Option".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path tmp;
    private Path logFile;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void writeLog() throws Exception {
        byte[] log = EventLogWriter.cryptoAgile(HashAlg.SHA1, HashAlg.SHA256)
                .event(4, EventType.EV_EFI_ACTION, ACTION)
                .event(7, EventType.EV_SEPARATOR, new byte[4])
                .event(8, EventType.EV_IPL, "kernel_cmdline: ro\u001b[2J\0".getBytes(StandardCharsets.UTF_8))
                .toBytes();
        logFile = tmp.resolve("log.bin");
        Files.write(logFile, log);
    }

    private int run(String... args) {
        CommandLine cl = ApplianceCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private static String expectedSha256Pcr4() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] digest = md.digest(ACTION);
        md.update(new byte[32]);
        md.update(digest);
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void replayJson() throws Exception {
        assertThat(run("eventlog", "replay", "--log", logFile.toString(), "--json")).isZero();
        JsonNode root = new ObjectMapper().readTree(out.toString());
        assertThat(root.path("banks").path("sha256").path("4").asText()).isEqualTo(expectedSha256Pcr4());
        assertThat(root.path("banks").path("sha1").size()).isEqualTo(3);
        assertThat(root.path("startupLocality").asInt()).isZero();
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void replayText() throws Exception {
        assertThat(run("eventlog", "replay", "--log", logFile.toString())).isZero();
        assertThat(out.toString()).contains("sha1:", "sha256:", "   4: " + expectedSha256Pcr4());
    }

    @Test
    void replayBase64ForcedAndDetected() throws Exception {
        Path b64 = tmp.resolve("log.b64");
        Files.writeString(b64, Base64.getMimeEncoder().encodeToString(Files.readAllBytes(logFile)));
        assertThat(run("eventlog", "replay", "--log", b64.toString(), "--base64")).isZero();
        assertThat(out.toString()).contains(expectedSha256Pcr4());
        assertThat(run("eventlog", "replay", "--log", b64.toString())).isZero();
    }

    @Test
    void showJsonHasEveryEventWithDigestsAndData() throws Exception {
        assertThat(run("eventlog", "show", "--log", logFile.toString(), "--json")).isZero();
        JsonNode root = new ObjectMapper().readTree(out.toString());
        assertThat(root.path("format").asText()).isEqualTo("crypto-agile");
        assertThat(root.path("events").size()).isEqualTo(4);
        JsonNode action = root.path("events").get(1);
        assertThat(action.path("pcr").asText()).isEqualTo("4");
        assertThat(action.path("type").asText()).isEqualTo("EV_EFI_ACTION");
        assertThat(action.path("digests").path("sha256").asText())
                .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ACTION)));
        assertThat(action.path("data").asText()).isEqualTo(HexFormat.of().formatHex(ACTION));
        // JSON escapes the device's control characters itself; the raw text survives for a program to judge.
        assertThat(root.path("events").get(3).path("decoded").asText()).contains("kernel_cmdline: ro\u001b[2J");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void showPrintsEveryEventDecoded() {
        assertThat(run("eventlog", "show", "--log", logFile.toString())).isZero();
        assertThat(out.toString())
                .contains("format: crypto-agile, 4 events")
                .contains("event 1 (offset")
                .contains("type: EV_EFI_ACTION (0x80000007)")
                .contains("decoded: \"Calling EFI Application from Boot Option\"")
                .contains("type: EV_SEPARATOR")
                .contains("decoded: Spec ID Event03")
                .contains("kernel_cmdline: ro\\u001b[2J")
                .doesNotContain("\u001b");
    }

    @Test
    void emptyFileIsOneErrorLineAndExit2() throws Exception {
        Path empty = Files.createFile(tmp.resolve("empty"));
        assertThat(run("eventlog", "replay", "--log", empty.toString())).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("error: event log at byte offset 0: log is empty"
                + System.lineSeparator());
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void truncatedLogNamesTheOffset() throws Exception {
        byte[] log = Files.readAllBytes(logFile);
        Path cut = tmp.resolve("cut");
        Files.write(cut, java.util.Arrays.copyOf(log, log.length - 3));
        assertThat(run("eventlog", "show", "--log", cut.toString())).isEqualTo(2);
        assertThat(err.toString()).startsWith("error: event log at byte offset ").contains("remain")
                .doesNotContain("Exception");
    }

    @Test
    void missingFileIsExit2() {
        assertThat(run("eventlog", "replay", "--log", tmp.resolve("nope").toString())).isEqualTo(2);
        assertThat(err.toString()).startsWith("error: cannot read ").contains("no such file");
    }

    @Test
    void missingOptionIsUsageError() {
        assertThat(run("eventlog", "replay")).isEqualTo(2);
        assertThat(err.toString()).contains("--log");
    }
}
