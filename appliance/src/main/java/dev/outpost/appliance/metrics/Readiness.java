package dev.outpost.appliance.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Whether the appliance can do its job now: every check must pass. Evaluating may block (the database probe):
 * call {@link #evaluate()} on a worker.
 */
public final class Readiness {
    private static final Logger LOG = LoggerFactory.getLogger(Readiness.class);

    /** One condition of readiness. */
    public interface Check {
        String name();

        /** Why this condition does not hold now; empty when it does. May block. */
        Optional<String> problem();

        static Check of(String name, java.util.function.Supplier<Optional<String>> problem) {
            return new Check() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public Optional<String> problem() {
                    return problem.get();
                }
            };
        }
    }

    /** The outcome of one evaluation: each check with its problem, if any. */
    public record Report(List<Result> results) {
        public boolean ready() {
            return results.stream().allMatch(r -> r.problem().isEmpty());
        }

        public JsonObject json() {
            JsonArray checks = new JsonArray();
            JsonObject failed = new JsonObject();
            for (Result r : results) {
                JsonObject c = new JsonObject().put("name", r.name()).put("ok", r.problem().isEmpty());
                r.problem().ifPresent(p -> {
                    c.put("reason", p);
                    failed.put(r.name(), p);
                });
                checks.add(c);
            }
            return new JsonObject().put("status", ready() ? "ready" : "not ready").put("failed", failed)
                    .put("checks", checks);
        }
    }

    public record Result(String name, Optional<String> problem) {
    }

    private final List<Check> checks;
    private volatile Boolean lastReady;

    public Readiness(List<Check> checks) {
        this.checks = List.copyOf(checks);
    }

    public Report evaluate() {
        List<Result> out = new ArrayList<>(checks.size());
        for (Check c : checks) {
            Optional<String> problem;
            try {
                problem = c.problem();
            } catch (RuntimeException e) {
                // A check that cannot tell is a failed check: readiness fails closed.
                problem = Optional.of("check failed: " + e);
            }
            out.add(new Result(c.name(), problem));
        }
        Report r = new Report(List.copyOf(out));
        logChange(r);
        return r;
    }

    // Transitions only: a scrape every few seconds must not repeat the same line.
    private void logChange(Report r) {
        boolean ready = r.ready();
        Boolean before = lastReady;
        lastReady = ready;
        if (before == null || before != ready) {
            if (ready) {
                LOG.info("ready");
            } else {
                LOG.warn("not ready: {}", r.json().getJsonObject("failed").encode());
            }
        }
    }
}
