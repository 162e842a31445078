package dev.outpost.tpm.wire;

import java.util.ArrayList;
import java.util.List;

/** TPMA_OBJECT bits, and a readable form for rejection messages. */
public final class ObjectAttributes {
    public static final int FIXED_TPM = 1 << 1;
    public static final int ST_CLEAR = 1 << 2;
    public static final int FIXED_PARENT = 1 << 4;
    public static final int SENSITIVE_DATA_ORIGIN = 1 << 5;
    public static final int USER_WITH_AUTH = 1 << 6;
    public static final int ADMIN_WITH_POLICY = 1 << 7;
    public static final int NO_DA = 1 << 10;
    public static final int ENCRYPTED_DUPLICATION = 1 << 11;
    public static final int RESTRICTED = 1 << 16;
    public static final int DECRYPT = 1 << 17;
    public static final int SIGN = 1 << 18;

    private static final int[] BITS = {FIXED_TPM, ST_CLEAR, FIXED_PARENT, SENSITIVE_DATA_ORIGIN, USER_WITH_AUTH,
        ADMIN_WITH_POLICY, NO_DA, ENCRYPTED_DUPLICATION, RESTRICTED, DECRYPT, SIGN};
    private static final String[] NAMES = {"fixedTPM", "stClear", "fixedParent", "sensitiveDataOrigin", "userWithAuth",
        "adminWithPolicy", "noDA", "encryptedDuplication", "restricted", "decrypt", "sign"};

    private ObjectAttributes() {
    }

    public static String describe(int attributes) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < BITS.length; i++) {
            if ((attributes & BITS[i]) != 0) {
                names.add(NAMES[i]);
            }
        }
        return String.join("|", names);
    }

    /** Names of the bits of {@code required} that {@code attributes} lacks. */
    public static String missing(int attributes, int required) {
        return describe(required & ~attributes);
    }
}
