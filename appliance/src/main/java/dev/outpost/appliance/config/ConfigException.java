package dev.outpost.appliance.config;

import java.util.List;

/** The configuration is unusable; each error is "path: reason" so the operator knows which line to fix. */
public class ConfigException extends RuntimeException {
    private final List<String> errors;

    public ConfigException(String source, List<String> errors) {
        super(source + ": " + (errors.size() == 1 ? errors.get(0) : String.join("\n  ", prepend(errors))));
        this.errors = List.copyOf(errors);
    }

    public ConfigException(String source, String error, Throwable cause) {
        super(source + ": " + error, cause);
        this.errors = List.of(error);
    }

    public List<String> errors() {
        return errors;
    }

    private static List<String> prepend(List<String> errors) {
        java.util.ArrayList<String> l = new java.util.ArrayList<>();
        l.add(errors.size() + " errors");
        l.addAll(errors);
        return l;
    }
}
