package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.SQLException;

/** Work done inside one transaction on the given connection. */
@FunctionalInterface
public interface SqlWork<T> {
    T run(Connection c) throws SQLException;
}
