package dev.tandem.core.migrate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.Role;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The part of "what is built" that needs no connector: each key a manifest may validly hold but no code performs
 * is one error finding with its path (the connectors' part is driven through plan, POST /test and migrate against
 * real databases in ManifestKeysIT).
 */
class BuiltTest {
    private final ManifestReader reader = new ManifestReader(Map.<String, String>of()::get);

    @Test
    void aManifestOfWhatIsBuiltHasNoGap() {
        assertThat(Built.gaps(manifest(""), null, null)).isEmpty();
        assertThat(Built.gaps(manifest(", \"cdc\": {\"method\": \"binlog\"}, \"source\": {\"url\": "
                + "\"jdbc:mariadb://h/db\"}"), null, null)).as("binlog: the connector's capability decides").isEmpty();
        assertThat(Built.gaps(manifest(", \"conflict_resolution\": {\"default\": \"newest_wins\", "
                + "\"timestamp_column\": \"ts\"}, \"validation\": {\"mode\": \"none\"}"), null, null)).isEmpty();
    }

    @Test
    void eachKeyThatIsNotBuiltIsOneFindingWithItsPath() {
        assertThat(Built.gaps(manifest(", \"data\": {\"type\": \"snapshot\"}, \"cdc\": {\"method\": \"binlog\"}, "
                + "\"source\": {\"url\": \"jdbc:mariadb://h/db\"}, \"conflict_resolution\": {\"default\": "
                + "\"target_wins\", \"overrides\": [{\"table\": \"a\", \"strategy\": \"manual\"}, {\"table\": \"b\", "
                + "\"strategy\": \"newest_wins\", \"timestamp_column\": \"ts\"}]}, \"validation\": {\"mode\": "
                + "\"row_diff\"}, \"alerting\": {\"rules\": [{\"name\": \"q\", \"condition\": \"conflicts_pending > "
                + "0\"}]}"), null, null))
                .allSatisfy(g -> assertThat(g.finding().severity()).isEqualTo(Finding.Severity.ERROR))
                .allSatisfy(g -> assertThat(g.finding().check()).isEqualTo(Built.CHECK))
                .extracting(g -> g.role() + " " + g.finding().subject())
                .containsExactly(Role.SOURCE + " data.type", Role.TARGET + " conflict_resolution.default",
                        Role.TARGET + " conflict_resolution.overrides[0].strategy", Role.TARGET + " validation.mode",
                        Role.TARGET + " alerting.rules[0].condition");
    }

    private Manifest manifest(String more) {
        String json = "{\"id\": \"t\", \"source\": {\"url\": \"jdbc:postgresql://a/db\"}, \"target\": {\"url\": "
                + "\"jdbc:postgresql://b/db\"}" + more + "}";
        if (more.contains("\"source\"")) {
            json = json.replace("\"source\": {\"url\": \"jdbc:postgresql://a/db\"}, ", "");
        }
        return reader.read(json, "test", ManifestReader.Purpose.RUN);
    }
}
