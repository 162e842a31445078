package dev.outpost.mqtt.protocol;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A message field added after the message shipped: decoding takes its absence as null (every other field must be
 * present), and encoding leaves it out when it is null (with {@code @JsonInclude(NON_NULL)}), so a peer that predates
 * the field still understands a message that does not use it.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD})
public @interface OptionalField {
}
