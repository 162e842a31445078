package dev.outpost.mqtt.endpoint;

/** Shape of a device id: lowercase hex SHA-256, 64 characters. */
final class DeviceIds {
    static final int LENGTH = 64;

    private DeviceIds() {
    }

    static boolean isValid(String s) {
        if (s == null || s.length() != LENGTH) {
            return false;
        }
        for (int i = 0; i < LENGTH; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    /** A short form for log lines an operator reads; the full id is in structured fields where it matters. */
    static String shortForm(String s) {
        if (s == null) {
            return "(none)";
        }
        String clean = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        // client ids come from the peer: keep control characters out of the log
        return clean.replaceAll("[^\\x20-\\x7e…]", "?");
    }
}
