package dev.outpost.bench.load;

import java.util.Arrays;

/**
 * An attestation's latency in its stages, as the device saw them: the wait for a generator thread after the device's
 * tick (plus the simulated kernel's new entries), the challenge's round trip through the appliance, the device's own
 * work (quote, list slice, evidence), and the evidence's round trip to the verdict. Tells a slow appliance from a slow
 * generator when the two share the cores.
 */
final class Stages {
    private long[] queue = new long[1024];
    private long[] challenge = new long[1024];
    private long[] device = new long[1024];
    private long[] evidence = new long[1024];
    private int count;

    /**
     * System.nanoTime() at the device's tick, at the challenge request, at its reply, and once the evidence was made;
     * the verdict is now.
     */
    synchronized void record(long due, long requested, long challenged, long made) {
        long now = System.nanoTime();
        if (count == challenge.length) {
            queue = Arrays.copyOf(queue, count * 2);
            challenge = Arrays.copyOf(challenge, count * 2);
            device = Arrays.copyOf(device, count * 2);
            evidence = Arrays.copyOf(evidence, count * 2);
        }
        queue[count] = (requested - due) / 1000;
        challenge[count] = (challenged - requested) / 1000;
        device[count] = (made - challenged) / 1000;
        evidence[count] = (now - made) / 1000;
        count++;
    }

    /** Microseconds, sorted. */
    synchronized long[] queue() {
        return sorted(queue);
    }

    synchronized long[] challenge() {
        return sorted(challenge);
    }

    synchronized long[] device() {
        return sorted(device);
    }

    synchronized long[] evidence() {
        return sorted(evidence);
    }

    private long[] sorted(long[] values) {
        long[] l = Arrays.copyOf(values, count);
        Arrays.sort(l);
        return l;
    }
}
