package dev.outpost.appliance.metrics;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import dev.outpost.appliance.store.DeviceState;

/**
 * Devices by state, counted on a timer and read by the gauges: a scrape never queries the database. One indexed
 * GROUP BY (devices_by_state); it belongs in DeviceStore as a count method once that class is free to change.
 */
final class DeviceCounts {
    private final DataSource ds;
    private final Map<DeviceState, AtomicLong> counts = new EnumMap<>(DeviceState.class);

    DeviceCounts(DataSource ds) {
        this.ds = ds;
        for (DeviceState s : DeviceState.values()) {
            counts.put(s, new AtomicLong());
        }
    }

    AtomicLong of(DeviceState s) {
        return counts.get(s);
    }

    /** Blocking (JDBC): on a worker. */
    void refresh() throws SQLException {
        Map<DeviceState, Long> fresh = new EnumMap<>(DeviceState.class);
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT state, COUNT(*) FROM devices GROUP BY state");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                fresh.put(DeviceState.fromDb(rs.getString(1)), rs.getLong(2));
            }
        }
        // States with no device are 0, not the last count: a gauge that keeps a stale value lies.
        for (DeviceState s : DeviceState.values()) {
            counts.get(s).set(fresh.getOrDefault(s, 0L));
        }
    }
}
