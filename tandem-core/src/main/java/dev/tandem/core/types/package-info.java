/**
 * Column types between engines, as data ({@link dev.tandem.core.types.TypeMapping}: one table of rules per direction,
 * in resources next to this package).
 */
package dev.tandem.core.types;
