package dev.outpost.ima.boot;

import java.util.List;

/**
 * A generated policy and what the generator could not record, each a sentence for the operator (a check left
 * out weakens the policy, so it must be said).
 */
public record GeneratedPolicy(BootPolicy policy, List<String> warnings) {
    public GeneratedPolicy {
        warnings = List.copyOf(warnings);
    }
}
