package dev.outpost.bench.load;

import java.util.List;

/**
 * One way of loading a site, run by {@link LoadGenerator} after every device enrolled and attested once (the shared
 * part: appliance process, broker, workers, checks and report live in {@link SiteRun} and the generator).
 */
interface Scenario {
    /** The scenario for {@code --scenario}. */
    static Scenario of(LoadOptions o) {
        return switch (o.scenario()) {
            case "steady" -> new SteadyScenario();
            case "reconnect-storm" -> new ReconnectStormScenario();
            case "reboot-storm" -> new RebootStormScenario();
            case "bundle-change" -> new BundleChangeScenario();
            case "enroll-storm" -> new EnrollStormScenario();
            default -> throw new IllegalArgumentException("no scenario " + o.scenario());
        };
    }

    /** Whether the appliance runs with the bench's hook (a {@code federate} command on its standard input). */
    default boolean hookedAppliance() {
        return false;
    }

    /** What happens before the measured phase, not measured (devices reboot, the appliance restarts). */
    default void prepare(SiteRun run, List<SimDevice> live) throws Exception {
    }

    /** The measured phase. */
    void run(SiteRun run, List<SimDevice> live) throws Exception;

    /** The report's line saying what the scenario did. */
    String describe(LoadOptions o);

    /** What the run's reconnect latencies measure, or null when the scenario records none. */
    default String reconnectLatency() {
        return null;
    }

    /** Lines the scenario adds at the end of the report. */
    default String report(SiteRun run, List<SimDevice> live) {
        return "";
    }

    /** Errors the scenario counted beyond the shared enrollment, attestation and reconnect ones. */
    default long errors() {
        return 0;
    }

    /** The bundle changes the scenario made, in order. */
    default List<LoadGenerator.BundleChangeResult> bundleChanges() {
        return List.of();
    }
}
