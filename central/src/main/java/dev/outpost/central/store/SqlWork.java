package dev.outpost.central.store;

import java.sql.Connection;
import java.sql.SQLException;

/** Work done inside one transaction. */
@FunctionalInterface
public interface SqlWork<T> {
    T run(Connection c) throws SQLException;
}
