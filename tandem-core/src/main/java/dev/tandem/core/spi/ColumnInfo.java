package dev.tandem.core.spi;

/**
 * One column as the database describes it.
 *
 * @param nativeType        the type as the database spells it ({@code numeric(10,2)}, {@code varchar(255)})
 * @param jdbcType          the {@link java.sql.Types} constant
 * @param defaultExpression the column default as SQL text, or null
 * @param generated         a generated (computed) column: its value is left to the target
 * @param identity          an identity / serial / auto-increment column
 * @param binaryPortable    the engine's binary transfer format of this column carries nothing database-specific
 *                          (PostgreSQL's binary arrays and composites embed type OIDs of user-defined types, which
 *                          differ between databases)
 */
public record ColumnInfo(String name, String nativeType, int jdbcType, boolean nullable, String defaultExpression,
                         boolean generated, boolean identity, boolean binaryPortable) {
}
