package dev.tandem.core.spi;

/**
 * One way a table's columns on the source came to differ from the target's during a migration (DDL on the source):
 * what the target needs to take the source's rows again.
 *
 * @param kind         what changed
 * @param column       the column as the source names it now (for {@link Kind#DROP}: the target's column the source
 *                     no longer has)
 * @param source       the source's column now ({@link Kind#ADD}, {@link Kind#TYPE}, {@link Kind#RENAME}); null for a
 *                     drop
 * @param targetType   the column's type on the target now, or null when the target has no such column
 * @param previousName for {@link Kind#RENAME}: the target's name of the column
 */
public record ColumnChange(Kind kind, String column, ColumnInfo source, String targetType, String previousName) {

    /** What changed on the source. */
    public enum Kind {
        /** A column the target lacks. */
        ADD,
        /** A column the target still has. */
        DROP,
        /** A column whose type differs from the target's (and from the pair the migration started with). */
        TYPE,
        /** A column added and another of the same type dropped at once: most likely one column renamed. */
        RENAME
    }

    /** For people: the column and what differs. */
    public String describe() {
        return switch (kind) {
            case ADD -> "column " + column + " (" + source.nativeType() + ") was added on the source; the target "
                    + "lacks it";
            case DROP -> "column " + column + " (" + targetType + ") is gone from the source; the target still has it";
            case TYPE -> "column " + column + " is " + source.nativeType() + " on the source now, " + targetType
                    + " on the target";
            case RENAME -> "column " + previousName + " is gone from the source and " + column + " (" + source
                    .nativeType() + ") appeared: most likely renamed";
        };
    }
}
