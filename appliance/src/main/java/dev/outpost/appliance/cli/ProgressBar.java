package dev.outpost.appliance.cli;

import java.io.PrintWriter;

/** A one-line textual progress bar, redrawn at most once per percent so it costs nothing on big trees. */
final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintWriter err;
    private final long total;
    private int lastPermille = -1;

    ProgressBar(PrintWriter err, long total) {
        this.err = err;
        this.total = Math.max(1, total);
    }

    void update(long done) {
        int permille = (int) Math.min(1000, done * 1000 / total);
        if (permille / 10 == lastPermille / 10 && done != total) {
            return;
        }
        lastPermille = permille;
        int fill = permille * WIDTH / 1000;
        err.print("\r[" + "#".repeat(fill) + " ".repeat(WIDTH - fill) + "] " + permille / 10 + "% " + done + "/"
                + total + " files");
        err.flush();
    }

    void finish() {
        err.println();
        err.flush();
    }
}
