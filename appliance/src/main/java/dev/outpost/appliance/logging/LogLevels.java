package dev.outpost.appliance.logging;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;

/** Log levels by role: one-shot CLI commands stay quiet below WARN, the service says what an operator needs. */
public final class LogLevels {
    private LogLevels() {
    }

    /** The service ({@code run}): INFO unless {@code OUTPOST_LOG_LEVEL} says otherwise. */
    public static void service() {
        String set = System.getenv("OUTPOST_LOG_LEVEL");
        if ((set == null || set.isBlank())
                && LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
            root.setLevel(Level.INFO);
        }
    }
}
