package dev.tandem.core.migrate;

/**
 * What the operator asked of a migration run besides the manifest.
 *
 * @param prevRunId {@code --prev-run}: the run whose unfinished chunks this one redoes, or null
 * @param rangeMin  seed 003's custom range start, or null
 * @param rangeMax  seed 003's custom range end, or null
 * @param actor     who asked, for the audit log
 */
public record RunOptions(Long prevRunId, String rangeMin, String rangeMax, String actor) {
}
