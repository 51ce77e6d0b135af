package dev.tandem.core.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every manifest in resources/manifests/bad is wrong in known ways. A YAML file lists the exact problems it must
 * produce in {@code # expect:} lines and is read to run (endpoints required); a JSON file is read as a draft (a REST
 * body) and lists its problems in a sibling {@code .expect} file. All of them and nothing else must be reported.
 */
class BadManifestCorpusTest {
    private final ManifestReader reader = new ManifestReader(Map.<String, String>of()::get);

    static Stream<Path> corpus() throws IOException, URISyntaxException {
        Path dir = Path.of(BadManifestCorpusTest.class.getResource("/manifests/bad").toURI());
        return Files.list(dir).filter(p -> !p.toString().endsWith(".expect")).sorted();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void reportsExactlyTheExpectedProblems(Path file) throws IOException {
        String text = Files.readString(file);
        boolean json = file.toString().endsWith(".json");
        List<String> expected = json ? Files.readAllLines(Path.of(file + ".expect")).stream()
                .filter(l -> !l.isBlank()).toList()
                : text.lines().filter(l -> l.startsWith("# expect: ")).map(l -> l.substring("# expect: ".length()))
                .toList();
        assertThat(expected).as("expectations in " + file.getFileName()).isNotEmpty();

        ManifestException e = catchThrowableOfType(ManifestException.class, () -> reader.read(text,
                file.getFileName().toString(), json ? ManifestReader.Purpose.DRAFT : ManifestReader.Purpose.RUN));
        assertThat(e).as(file.getFileName() + " must be rejected").isNotNull();
        assertThat(e.details()).extracting(Problem::message).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(e.getMessage()).doesNotContain("Exception").doesNotContain("\tat ");
    }
}
