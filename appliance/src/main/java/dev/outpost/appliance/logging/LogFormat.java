package dev.outpost.appliance.logging;

import java.util.Locale;
import java.util.Map;

import ch.qos.logback.core.PropertyDefinerBase;

/**
 * Which appender logback.xml uses: {@code OUTPOST_LOG_FORMAT} (or the system property {@code outpost.log.format})
 * = {@code text}, {@code journal} or {@code json}; unset, {@code journal} when journald reads our output
 * (systemd sets {@code JOURNAL_STREAM} for a service whose output goes to the journal), else {@code text}.
 */
public final class LogFormat extends PropertyDefinerBase {
    static final String ENV = "OUTPOST_LOG_FORMAT";
    static final String PROPERTY = "outpost.log.format";

    @Override
    public String getPropertyValue() {
        String chosen = System.getProperty(PROPERTY, System.getenv(ENV));
        String f = choose(chosen, System.getenv());
        if (chosen != null && !chosen.isBlank() && !f.equals(chosen.trim().toLowerCase(Locale.ROOT))) {
            addWarn(ENV + "=" + chosen + " is not text, journal or json; using " + f);
        }
        return f;
    }

    static String choose(String chosen, Map<String, String> env) {
        if (chosen != null) {
            String c = chosen.trim().toLowerCase(Locale.ROOT);
            if (c.equals("text") || c.equals("journal") || c.equals("json")) {
                return c;
            }
        }
        String js = env.get("JOURNAL_STREAM");
        return js != null && !js.isBlank() ? "journal" : "text";
    }
}
