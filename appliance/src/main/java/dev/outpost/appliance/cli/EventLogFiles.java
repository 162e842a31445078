package dev.outpost.appliance.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventLogException;
import dev.outpost.tpm.eventlog.EventLogInput;
import dev.outpost.tpm.eventlog.Limits;

/** Reads a log file given on the command line, binary or base64, within the parser's limits. */
final class EventLogFiles {
    private EventLogFiles() {
    }

    static EventLog load(Path path, boolean base64) throws IOException, EventLogException {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("cannot read " + path + ": no such file");
        }
        // Base64 text is 4/3 of the log plus line breaks; anything beyond twice the limit is refused unread.
        long max = 2L * Limits.DEFAULT.maxLogBytes();
        if (Files.size(path) > max) {
            throw new IllegalArgumentException(path + " is larger than " + max + " bytes");
        }
        return EventLog.parse(EventLogInput.fromFile(Files.readAllBytes(path), base64, Limits.DEFAULT));
    }
}
