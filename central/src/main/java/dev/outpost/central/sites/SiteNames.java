package dev.outpost.central.sites;

import java.util.regex.Pattern;

/** Site names per docs/upward-link.md: they become a SPIFFE ID path segment and a certificate CN. */
public final class SiteNames {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private SiteNames() {
    }

    public static boolean valid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    public static void check(String name) {
        if (!valid(name)) {
            throw new IllegalArgumentException("site name must match ^[a-z0-9][a-z0-9-]{0,62}$");
        }
    }
}
