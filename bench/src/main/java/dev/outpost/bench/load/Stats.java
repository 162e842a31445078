package dev.outpost.bench.load;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a run records: one sample per completed operation (when it ended, how long it took) and errors by kind.
 * Samples go into preallocated arrays, so recording costs no allocation while the appliance is measured.
 */
public final class Stats {
    private volatile long origin = System.nanoTime();
    private volatile long originEpochMillis = System.currentTimeMillis();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private long[] endMicros = new long[1024];
    private long[] latencyMicros = new long[1024];
    private int count;

    /** Time zero of {@link #perSecond()}: the start of the measured phase. */
    public void start() {
        origin = System.nanoTime();
        originEpochMillis = System.currentTimeMillis();
    }

    /** @param startNanos when the operation began, from {@link System#nanoTime()} */
    public synchronized void record(long startNanos) {
        long now = System.nanoTime();
        if (count == endMicros.length) {
            endMicros = Arrays.copyOf(endMicros, count * 2);
            latencyMicros = Arrays.copyOf(latencyMicros, count * 2);
        }
        endMicros[count] = (now - origin) / 1000;
        latencyMicros[count] = (now - startNanos) / 1000;
        count++;
    }

    public void error(String kind) {
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    public synchronized int count() {
        return count;
    }

    public Map<String, Long> errors() {
        Map<String, Long> m = new TreeMap<>();
        errors.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    public long errorCount() {
        return errors.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** Latencies in microseconds, sorted. */
    public synchronized long[] sortedLatencies() {
        long[] l = Arrays.copyOf(latencyMicros, count);
        Arrays.sort(l);
        return l;
    }

    /** The second of {@link #perSecond()} that a System.nanoTime() instant falls in. */
    public int secondOf(long nanos) {
        return (int) ((nanos - origin) / 1_000_000_000L);
    }

    /** Latencies (µs, sorted) of the operations that ended between two System.nanoTime() instants. */
    public synchronized long[] latenciesEndingBetween(long fromNanos, long toNanos) {
        return endingWithin((fromNanos - origin) / 1000, (toNanos - origin) / 1000);
    }

    /** Latencies (µs, sorted) of the operations that ended at least {@code seconds} after the origin. */
    public synchronized long[] latenciesEndingAfter(double seconds) {
        return endingWithin((long) (seconds * 1_000_000), Long.MAX_VALUE);
    }

    private long[] endingWithin(long fromMicros, long toMicros) {
        return selected(i -> endMicros[i] >= fromMicros && endMicros[i] <= toMicros);
    }

    // The latencies (µs, sorted) of the samples whose index passes keep.
    private long[] selected(java.util.function.IntPredicate keep) {
        long[] l = new long[count];
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (keep.test(i)) {
                l[n++] = latencyMicros[i];
            }
        }
        l = Arrays.copyOf(l, n);
        Arrays.sort(l);
        return l;
    }

    /** When the measured phase began, epoch ms. */
    public long originEpochMillis() {
        return originEpochMillis;
    }

    /**
     * The latencies (µs, sorted) of the operations that ended at least {@code seconds} after the origin, split by
     * {@code test} on each one's start and end (epoch ms): [0] those it holds for, [1] the others.
     */
    public synchronized long[][] latenciesEndingAfterSplit(double seconds, java.util.function.BiPredicate<Double, Double> test) {
        long from = (long) (seconds * 1_000_000);
        java.util.function.IntPredicate holds = i -> {
            double end = originEpochMillis + endMicros[i] / 1000.0;
            return test.test(end - latencyMicros[i] / 1000.0, end);
        };
        return new long[][] {selected(i -> endMicros[i] >= from && holds.test(i)),
                selected(i -> endMicros[i] >= from && !holds.test(i))};
    }

    /** Per second since the origin: {count, p50 µs, p99 µs}. */
    public synchronized long[][] perSecond() {
        int seconds = count == 0 ? 0 : (int) (Arrays.stream(endMicros, 0, count).max().orElse(0) / 1_000_000) + 1;
        long[][] out = new long[seconds][3];
        long[][] buckets = new long[seconds][];
        int[] fill = new int[seconds];
        for (int i = 0; i < count; i++) {
            fill[(int) (endMicros[i] / 1_000_000)]++;
        }
        for (int s = 0; s < seconds; s++) {
            buckets[s] = new long[fill[s]];
            fill[s] = 0;
        }
        for (int i = 0; i < count; i++) {
            int s = (int) (endMicros[i] / 1_000_000);
            buckets[s][fill[s]++] = latencyMicros[i];
        }
        for (int s = 0; s < seconds; s++) {
            Arrays.sort(buckets[s]);
            out[s][0] = buckets[s].length;
            out[s][1] = percentile(buckets[s], 50);
            out[s][2] = percentile(buckets[s], 99);
        }
        return out;
    }

    /**
     * CSV of the operations by the window of {@code widthMillis} they ended in: the window's start (UTC, epoch ms, to
     * line up with the appliance's logs and recordings), count, p50, p99 and max latency in µs. Stalls shorter than a
     * second show here and not in {@link #perSecond()}.
     */
    public synchronized String windowsCsv(int widthMillis) {
        long width = widthMillis * 1000L;
        java.util.TreeMap<Long, List<Long>> windows = new java.util.TreeMap<>();
        for (int i = 0; i < count; i++) {
            windows.computeIfAbsent(endMicros[i] / width, k -> new ArrayList<>()).add(latencyMicros[i]);
        }
        StringBuilder b = new StringBuilder("window_start_epoch_ms,count,p50_us,p99_us,max_us\n");
        windows.forEach((w, l) -> {
            long[] sorted = l.stream().mapToLong(Long::longValue).sorted().toArray();
            b.append(originEpochMillis + w * widthMillis).append(',').append(sorted.length).append(',')
                    .append(percentile(sorted, 50)).append(',').append(percentile(sorted, 99)).append(',')
                    .append(sorted[sorted.length - 1]).append('\n');
        });
        return b.toString();
    }

    /** Nearest-rank percentile of sorted values; 0 for none. */
    public static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
