package dev.outpost.appliance.logging;

import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusListener;

/**
 * Logback's own configuration errors, and nothing else, on stderr. Without a listener logback prints its whole
 * status list to stdout as soon as a step warns (the appenders the chosen format leaves unused do), and stdout
 * is what the CLI's commands print their data on.
 */
public final class ErrorStatusListener extends ContextAwareBase implements StatusListener {
    @Override
    public void addStatusEvent(Status status) {
        if (status.getEffectiveLevel() >= Status.ERROR) {
            System.err.println("logback: " + status);
        }
    }
}
