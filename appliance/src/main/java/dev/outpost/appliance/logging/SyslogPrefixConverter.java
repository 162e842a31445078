package dev.outpost.appliance.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %syslogPrefix}: the sd-daemon priority prefix ({@code <3>} error, {@code <4>} warning, {@code <6>} info,
 * {@code <7>} debug) that journald reads off each stdout/stderr line of a service (SyslogLevelPrefix=, on by
 * default), so {@code journalctl -p warning} filters the appliance's own levels.
 */
public final class SyslogPrefixConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return prefix(event.getLevel());
    }

    static String prefix(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> "<3>";
            case Level.WARN_INT -> "<4>";
            case Level.INFO_INT -> "<6>";
            default -> "<7>";
        };
    }
}
