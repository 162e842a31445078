package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import org.h2.api.Trigger;

/**
 * H2 calls this for every row written to {@code devices} or {@code attestations} (migration V10), on the thread that
 * runs the statement: it notes the table and the device id, and {@link Database#inTransaction} hands them to the
 * table's {@link RowCache} once the transaction is over. A trigger, not a call in each store's update, so that no
 * statement that writes those tables, whichever class runs it (or a cascade), can leave a cached row behind.
 */
public final class RowsChanged implements Trigger {
    /** One written row: the table (upper case, as H2 names it) and the device id. */
    record Row(String table, String deviceId) {
    }

    private static final ThreadLocal<List<Row>> TOUCHED = ThreadLocal.withInitial(ArrayList::new);

    private String table;
    private int idColumn = -1;

    @Override
    public void init(Connection c, String schema, String trigger, String table, boolean before, int type)
            throws SQLException {
        this.table = table;
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
        List<Row> touched = TOUCHED.get();
        String before = oldRow == null ? null : (String) oldRow[idColumn];
        String after = newRow == null ? null : (String) newRow[idColumn];
        if (before != null) {
            touched.add(new Row(table, before));
        }
        if (after != null && !after.equals(before)) {
            touched.add(new Row(table, after));
        }
    }

    /** The rows this thread's statements wrote since the last call, and forgets them. */
    static List<Row> drain() {
        List<Row> touched = TOUCHED.get();
        if (touched.isEmpty()) {
            return List.of();
        }
        List<Row> out = List.copyOf(touched);
        touched.clear();
        return out;
    }
}
