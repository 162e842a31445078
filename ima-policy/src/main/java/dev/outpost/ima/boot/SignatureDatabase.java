package dev.outpost.ima.boot;

import java.util.List;
import java.util.Objects;

/**
 * What a policy demands of one signature database variable (PK, KEK, db or dbx).
 *
 * @param mode how the log's entries relate to {@code entries}
 * @param entries the entries the policy names
 */
public record SignatureDatabase(Mode mode, List<AllowedSignature> entries) {

    /** Trust databases may only shrink safely, the revocation database may only grow safely. */
    public enum Mode {
        /** Every entry in the log must be named (PK, KEK, db: an added key is an added trust anchor). */
        SUBSET,
        /** Every named entry must be in the log (dbx: a removed revocation re-admits a known-bad binary). */
        SUPERSET,
        /** Both. */
        EXACT;

        boolean checksUnexpected() {
            return this != SUPERSET;
        }

        boolean checksMissing() {
            return this != SUBSET;
        }
    }

    public SignatureDatabase {
        Objects.requireNonNull(mode);
        entries = List.copyOf(entries);
    }
}
