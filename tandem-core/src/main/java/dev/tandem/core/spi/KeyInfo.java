package dev.tandem.core.spi;

import java.util.List;

/** A primary key or a unique key whose columns are all NOT NULL: a key Tandem can chunk and apply changes by. */
public record KeyInfo(String name, List<String> columns, boolean primary) {
    public KeyInfo {
        columns = List.copyOf(columns);
    }
}
