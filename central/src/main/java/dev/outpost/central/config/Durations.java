package dev.outpost.central.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as operators write them in central.yaml and on the command line: {@code 90d}, {@code 24h}, {@code 30m}, {@code 300s}. */
public final class Durations {
    private static final Pattern FORM = Pattern.compile("([0-9]{1,9})([dhms])");

    private Durations() {
    }

    public static Duration parse(String text) {
        Matcher m = text == null ? null : FORM.matcher(text.trim());
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("duration '" + text + "': expected a number and d, h, m or s (e.g. 90d, 24h, 300s)");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "d" -> Duration.ofDays(n);
            case "h" -> Duration.ofHours(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.isZero()) {
            throw new IllegalArgumentException("duration '" + text + "' must be positive");
        }
        return d;
    }
}
