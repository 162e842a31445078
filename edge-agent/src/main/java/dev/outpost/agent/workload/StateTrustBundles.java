package dev.outpost.agent.workload;

import java.io.IOException;

import dev.outpost.agent.state.AgentState;

/**
 * The trust the agent keeps in its state directory (the site bundle it follows on the bundle topic), as the
 * Workload API serves it.
 */
public final class StateTrustBundles implements TrustBundles.Source {
    private final AgentState state;
    private final String trustDomain;

    public StateTrustBundles(AgentState state, String trustDomain) {
        this.state = state;
        this.trustDomain = trustDomain;
    }

    @Override
    public TrustBundles current() throws IOException {
        return new TrustBundles(trustDomain, state.bundleSequence(), state.bundle().orElse(java.util.List.of()),
                state.federatedBundles(), state.jwtAuthorities());
    }
}
