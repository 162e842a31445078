package dev.outpost.appliance.store;

import java.sql.SQLException;

import com.zaxxer.hikari.SQLExceptionOverride;

/**
 * Tells the pool that a connection to a database H2 has closed is dead. H2 closes an embedded database when a write
 * fails (a full disk); the pooled connections keep the closed instance alive, and every later connection would
 * attach to it too, so the appliance never recovered when space was freed. Evicting them lets H2 drop the instance;
 * the next connection opens the file again (with H2's recovery of the last committed state).
 */
public final class ClosedDatabaseEvicts implements SQLExceptionOverride {
    // org.h2.api.ErrorCode.DATABASE_IS_CLOSED, DATABASE_CALLED_AT_SHUTDOWN
    private static final int DATABASE_IS_CLOSED = 90098;
    private static final int DATABASE_CALLED_AT_SHUTDOWN = 90121;

    @java.lang.Override
    public Override adjudicate(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && (s.getErrorCode() == DATABASE_IS_CLOSED
                    || s.getErrorCode() == DATABASE_CALLED_AT_SHUTDOWN)) {
                return Override.MUST_EVICT;
            }
        }
        return Override.CONTINUE_EVICT;
    }
}
