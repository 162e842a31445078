package dev.outpost.appliance.metrics;

import dev.outpost.appliance.ca.CaRotation;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code outpost_ca_rotation_state{state="..."}}: 1 for the state rotation is in, 0 for the others, so an alert can
 * say {@code outpost_ca_rotation_state{state="retrying"} == 1 for 1d} without decoding numbers.
 */
public final class RotationMetrics {
    private RotationMetrics() {
    }

    public static void bind(MeterRegistry registry, CaRotation rotation) {
        for (CaRotation.State s : CaRotation.State.values()) {
            Gauge.builder("outpost.ca.rotation.state", rotation, r -> r.state() == s ? 1 : 0)
                    .description("Site CA rotation: 1 for the current state (none, preparing, retrying, "
                            + "awaiting-install, prepared, expired)")
                    .tag("state", s.label()).strongReference(true).register(registry);
        }
    }
}
