package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Set;

import org.h2.api.Trigger;

/**
 * H2 calls this for every row written to {@code devices} (migration V10), on the thread that runs the statement:
 * it notes the device id, and {@link Database#inTransaction} hands the ids to the {@link DeviceRowCache} once the
 * transaction is over. A trigger, not a call in each store's update, so that no statement that writes the table,
 * whichever class runs it, can leave a cached row behind.
 */
public final class DeviceRowsChanged implements Trigger {
    private static final ThreadLocal<Set<String>> TOUCHED = ThreadLocal.withInitial(HashSet::new);

    private int idColumn = -1;

    @Override
    public void init(Connection c, String schema, String trigger, String table, boolean before, int type)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT ORDINAL_POSITION FROM INFORMATION_SCHEMA.COLUMNS "
                + "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = 'DEVICE_ID'")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException(trigger + ": table " + table + " has no DEVICE_ID column");
                }
                idColumn = rs.getInt(1) - 1;
            }
        }
    }

    @Override
    public void fire(Connection c, Object[] oldRow, Object[] newRow) {
        Set<String> touched = TOUCHED.get();
        if (oldRow != null) {
            touched.add((String) oldRow[idColumn]);
        }
        if (newRow != null) {
            touched.add((String) newRow[idColumn]);
        }
    }

    /** The ids this thread's statements wrote since the last call, and forgets them. */
    static Set<String> drain() {
        Set<String> touched = TOUCHED.get();
        if (touched.isEmpty()) {
            return Set.of();
        }
        Set<String> out = Set.copyOf(touched);
        touched.clear();
        return out;
    }
}
