package dev.outpost.central.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** Instants as TIMESTAMP WITH TIME ZONE through java.time, which both H2 2.x and pgjdbc map the same way. */
public final class Sql {
    private Sql() {
    }

    public static void setInstant(PreparedStatement ps, int i, Instant t) throws SQLException {
        ps.setObject(i, t == null ? null : OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
    }

    public static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
