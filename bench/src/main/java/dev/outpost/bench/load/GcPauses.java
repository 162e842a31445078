package dev.outpost.bench.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The appliance's stop-the-world pauses, read from its GC log ({@code -Xlog:gc:file=...:utctime,uptime}), to tell
 * how much of the latency tail they are: the attestations that overlapped a pause against the others.
 */
final class GcPauses {
    /** JVM option the generator gives the appliance, unless the run sets its own {@code -Xlog:gc}. */
    static String option(Path log) {
        return "-Xlog:gc:file=" + log + ":utctime,uptime";
    }

    // [2026-12-07T14:49:29.927+0000][288.447s] GC(579) Pause Young (Normal) (G1 Evacuation Pause) 554M->185M(640M) 16.312ms
    private static final Pattern PAUSE = Pattern.compile(
            "^\\[([^\\]]+)\\]\\[[^\\]]*\\] GC\\(\\d+\\) (Pause .*?)(?: \\d+M->\\d+M\\(\\d+M\\))? (\\d+(?:\\.\\d+)?)ms$");
    private static final DateTimeFormatter UTC = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    // A log line longer than this is not one of the lines read here.
    private static final int MAX_LINE = 512;

    /** One pause: when it began and ended (epoch ms; the log stamps its end) and its kind. */
    record Pause(double startEpochMs, double endEpochMs, String kind) {
        double millis() {
            return endEpochMs - startEpochMs;
        }
    }

    private final List<Pause> pauses;

    private GcPauses(List<Pause> pauses) {
        this.pauses = pauses;
    }

    /** The pauses in the log; none when it does not exist (a run that set its own logging). */
    static GcPauses read(Path log) throws IOException {
        List<Pause> out = new ArrayList<>();
        if (Files.exists(log)) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                parse(line).ifPresent(out::add);
            }
        }
        return new GcPauses(out);
    }

    static java.util.Optional<Pause> parse(String line) {
        if (line.length() > MAX_LINE) {
            return java.util.Optional.empty();
        }
        Matcher m = PAUSE.matcher(line.strip());
        if (!m.matches()) {
            return java.util.Optional.empty();
        }
        double end = OffsetDateTime.parse(m.group(1), UTC).toInstant().toEpochMilli();
        double ms = Double.parseDouble(m.group(3));
        return java.util.Optional.of(new Pause(end - ms, end, m.group(2).strip()));
    }

    /** The pauses that ended between two epoch-ms instants. */
    List<Pause> between(double fromEpochMs, double toEpochMs) {
        return pauses.stream().filter(p -> p.endEpochMs() >= fromEpochMs && p.endEpochMs() <= toEpochMs).toList();
    }

    /** Whether an operation running from {@code startEpochMs} to {@code endEpochMs} overlapped a pause. */
    boolean overlaps(double startEpochMs, double endEpochMs) {
        for (Pause p : pauses) {
            if (p.startEpochMs() < endEpochMs && p.endEpochMs() > startEpochMs) {
                return true;
            }
        }
        return false;
    }
}
