package dev.outpost.bench.load;

import java.util.List;

/** Every device enrolls at once (the shared enrollment phase), then one measured round of attestations. */
final class EnrollStormScenario implements Scenario {
    @Override
    public void run(SiteRun run, List<SimDevice> live) throws Exception {
        run.forAll(live, d -> run.attestOnce(d, run.attestStats()));
    }

    @Override
    public String describe(LoadOptions o) {
        return String.format("enroll-storm: all enroll at once, then one attestation round with %d new IMA entries each%n",
                o.entries());
    }
}
