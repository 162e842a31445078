package dev.outpost.appliance.metrics;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.attest.EvidenceOutcome;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.refusal.Refusal;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.timers.Periodic;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;

/**
 * The appliance's domain metrics (names and meanings in docs/metrics.md). The services see only
 * {@link VerdictObserver} and {@link EnrollmentObserver}; everything Micrometer is here.
 */
public final class ApplianceMetrics implements VerdictObserver, EnrollmentObserver {
    private static final Logger LOG = LoggerFactory.getLogger(ApplianceMetrics.class);
    /** Devices by state are counted this often; a scrape reads the last count. */
    public static final Duration DEVICE_COUNT_EVERY = Duration.ofSeconds(15);
    // Reason classes come from evidence parsers (IMA template names reach the event ids): a label value must be
    // one of a bounded set, or a hostile device could grow the registry without end.
    static final int MAX_REASON_CLASSES = 64;
    private static final Pattern REASON_CLASS = Pattern.compile("[a-z][a-z0-9_.-]{0,63}");
    static final String OTHER = "other";

    private final MeterRegistry registry;
    private final Timer verification;
    private final DeviceCounts devices;
    private final Set<String> reasonClasses = ConcurrentHashMap.newKeySet();

    public ApplianceMetrics(MeterRegistry registry, DataSource db, SiteCa ca, Clock clock, LongSupplier bufferedEvidence) {
        this.registry = registry;
        this.verification = Timer.builder("outpost.attestation.verification")
                .description("Time to judge complete evidence (quote, counters, boot log, IMA) and record the verdict")
                // A dozen fixed buckets, not Micrometer's ~70: enough for p99 against the 50 ms aim and for the
                // first attestation of a long IMA list, and cheap to scrape.
                .serviceLevelObjectives(Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
                        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
                        Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
                        Duration.ofSeconds(30))
                .register(registry);
        for (String result : new String[] {"trusted", "failed", "pending"}) {
            attestations(result);
        }
        Gauge.builder("outpost.evidence.buffered", bufferedEvidence, s -> s.getAsLong())
                .description("Evidence bytes buffered for all devices (parts of uploads not yet judged)")
                // Micrometer holds a gauge's object weakly: a method reference nobody else keeps went at the first
                // GC and the gauge read NaN (MetricsTest caught it).
                .baseUnit("bytes").strongReference(true).register(registry);
        Gauge.builder("outpost.ca.expiry.remaining", ca, c -> Duration.between(clock.instant(), c.notAfter()).toSeconds())
                .description("Seconds until the site CA certificate expires (negative once it has)")
                .baseUnit("seconds").strongReference(true).register(registry);
        this.devices = new DeviceCounts(db);
        for (DeviceState s : DeviceState.values()) {
            Gauge.builder("outpost.devices", devices.of(s), a -> a.get())
                    .description("Devices by state, counted every " + DEVICE_COUNT_EVERY.toSeconds() + " s")
                    .tag("state", s.dbValue()).strongReference(true).register(registry);
        }
        for (String action : new String[] {"enroll", "activate"}) {
            enrollments(action, "accepted");
        }
    }

    /** Counts devices now and then on a timer (on a worker: JDBC). Returns the timer id. */
    public long start(Vertx vertx) {
        refreshDevices();
        return Periodic.every(vertx, DEVICE_COUNT_EVERY, "device count", () -> {
            refreshDevices();
            return null;
        });
    }

    /** Counts devices by state now. Blocking. */
    public void refreshDevices() {
        try {
            devices.refresh();
        } catch (Exception e) {
            // The gauges keep the last count; readiness reports the database itself.
            LOG.debug("device count not refreshed: {}", e.getMessage());
        }
    }

    @Override
    public EvidenceOutcome.Verdict judged(long startedNanos, EvidenceOutcome.Verdict verdict) {
        verification.record(Duration.ofNanos(System.nanoTime() - startedNanos));
        String result = verdict.state().dbValue();
        attestations(result).increment();
        // Each class once per verdict: twenty failing IMA entries are one attestation failing for IMA.
        Set<String> classes = new LinkedHashSet<>();
        for (String r : verdict.reasons()) {
            classes.add(reasonClass(r));
        }
        for (String c : classes) {
            Counter.builder("outpost.attestation.reasons")
                    .description("Attestation verdicts by result and reason class (the part of a reason before ':'), "
                            + "each class counted once per verdict")
                    .tags("result", result, "reason", c).register(registry).increment();
        }
        return verdict;
    }

    @Override
    public void outcome(String action, Refusal.Why refusedFor) {
        if (!"enroll".equals(action) && !"activate".equals(action)) {
            return;
        }
        enrollments(action, refusedFor == null ? "accepted" : refusedFor.name().toLowerCase(Locale.ROOT)).increment();
    }

    String reasonClass(String reason) {
        int colon = reason.indexOf(':');
        String c = (colon < 0 ? reason : reason.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        if (!REASON_CLASS.matcher(c).matches()) {
            return OTHER;
        }
        if (reasonClasses.contains(c)) {
            return c;
        }
        synchronized (reasonClasses) {
            if (reasonClasses.size() >= MAX_REASON_CLASSES && !reasonClasses.contains(c)) {
                return OTHER;
            }
            reasonClasses.add(c);
            return c;
        }
    }

    private Counter attestations(String result) {
        return Counter.builder("outpost.attestations")
                .description("Attestation verdicts on complete evidence, by result").tag("result", result)
                .register(registry);
    }

    private Counter enrollments(String step, String outcome) {
        return Counter.builder("outpost.enrollments")
                .description("Enrollment steps by outcome: accepted, or the refusal's reason")
                .tags("step", step, "outcome", outcome).register(registry);
    }
}
