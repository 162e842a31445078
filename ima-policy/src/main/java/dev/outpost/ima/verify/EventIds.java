package dev.outpost.ima.verify;

import dev.outpost.ima.list.ImaTemplate;

/** Failure event ids in Keylime's dotted style, so operators can grep either system's logs the same way. */
public final class EventIds {
    public static final String PCR_MISMATCH = "ima.pcr_mismatch";
    public static final String TEMPLATE_HASH = "ima.template_hash_mismatch";
    public static final String PARSER = "ima.parser.entry";
    public static final String OFFSET = "ima.offset_mismatch";
    public static final String UNEXPECTED_PCR = "ima.unexpected_pcr";
    /** A violation entry under {@link ViolationHandling#FAIL}; Keylime's id for the same event. */
    public static final String VIOLATION = "ima.validation.tomtou";

    private EventIds() {
    }

    public static String validation(ImaTemplate t, String reason) {
        return "ima.validation." + t.templateName() + "." + reason;
    }
}
