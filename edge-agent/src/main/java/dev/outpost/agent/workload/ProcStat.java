package dev.outpost.agent.workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's start time from {@code /proc/<pid>/stat}: with the pid it names one process for the life of the
 * system, so a pid that was reused by another process is told apart from the caller that connected.
 */
final class ProcStat {
    private static final int MAX_STAT = 4096;
    private final Path proc;

    ProcStat(Path proc) {
        this.proc = proc;
    }

    Path proc() {
        return proc;
    }

    /** Start time in clock ticks since boot, or -1 when the process is gone or the file is not what we expect. */
    long startTime(int pid) {
        if (pid <= 0) {
            return -1;
        }
        try {
            byte[] b = Files.readAllBytes(proc.resolve(Integer.toString(pid)).resolve("stat"));
            if (b.length > MAX_STAT) {
                return -1;
            }
            return parse(new String(b, StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Field 22; fields are counted after the command name, which sits in parentheses and may hold spaces. */
    static long parse(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return -1;
        }
        String[] f = stat.substring(close + 1).trim().split(" ");
        // After ")" come field 3 (state) onwards: field 22 is index 19.
        return f.length > 19 ? Long.parseLong(f[19]) : -1;
    }
}
