package dev.outpost.appliance.store;

import java.util.Locale;

/** Lifecycle of a device; the lowercase name is what the database stores. */
public enum DeviceState {
    PENDING, ENROLLED, TRUSTED, FAILED, STALE, REVOKED;

    /** Failed and revoked hold until an operator acts; nothing a device sends changes them. */
    public boolean heldByOperator() {
        return this == FAILED || this == REVOKED;
    }

    public String dbValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DeviceState fromDb(String v) {
        return valueOf(v.toUpperCase(Locale.ROOT));
    }
}
