package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The source's change log, as far as positions go: the streaming itself is a separate capability that builds on
 * this. A position is text the connector alone interprets (an LSN such as {@code 0/16B3748}; a binlog
 * {@code file:offset}).
 */
public interface ChangeLog {

    /** {@code lsn}, {@code binlog}, {@code gtid} or {@code timestamp}: how to read {@link #currentPosition}. */
    String positionKind();

    /** The newest position the server has written, now. Read-only. */
    String currentPosition(Connection connection) throws SQLException;
}
