package dev.tandem.worker.service;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerTypeCatalogTests {

    @Test
    void loadsTheBuiltInTypes() {
        var types = WorkerTypeCatalog.loadAll(Optional.empty());

        assertThat(types).containsOnlyKeys("classify", "extract", "summarize", "validate", "solve", "answer");
        var classify = types.get("classify").definition().classify();
        assertThat(classify.taxonomies()).containsKeys("support-ticket", "sentiment");
        assertThat(classify.taxonomies().get("support-ticket").labels())
                .containsKeys("billing", "technical", "account", "shipping", "other")
                .allSatisfy((name, label) -> assertThat(label.exemplars()).hasSizeGreaterThanOrEqualTo(8));
        assertThat(types.get("extract").definition().extract().fields())
                .containsKeys("email", "phone", "order_id", "amount", "date", "url");
    }

    @Test
    void aBrokenFileStopsLoadingWithMessagesNamingTheFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("broken.json"), """
                {"name": "broken", "kind": "extract", "description": "d", "required_inputs": ["text"],
                 "confidence_method": "m", "gates": ["schema", "label-in-taxonomy"], "output_schema": {},
                 "extract": {"context_chars": 10, "temperature": 0.1,
                             "fields": {"x": {"description": "x", "pattern": "([a-z"}}}}
                """);
        Files.writeString(dir.resolve("incomplete.json"), """
                {"name": "incomplete", "kind": "classify"}
                """);

        assertThatThrownBy(() -> WorkerTypeCatalog.loadAll(Optional.of(dir.toString())))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("broken.json: gate 'label-in-taxonomy' does not apply to kind extract")
                .hasMessageContaining("broken.json: pattern of field 'x' does not compile")
                .hasMessageContaining("incomplete.json")
                .hasMessageContaining("description");
    }

    @Test
    void aFileInTheTypesDirectoryReplacesABuiltInOfTheSameName(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("summarize.json"), """
                {"name": "summarize", "kind": "summarize", "description": "one-line summaries",
                 "required_inputs": ["text"], "confidence_method": "summary-centroid-coverage",
                 "gates": ["schema"], "output_schema": {"type": "object"},
                 "summarize": {"default_max_sentences": 1, "max_sentences_limit": 3, "redundancy_penalty": 0.3}}
                """);

        var types = WorkerTypeCatalog.loadAll(Optional.of(dir.toString()));

        assertThat(types.get("summarize").definition().summarize().defaultMaxSentences()).isEqualTo(1);
        assertThat(types.get("summarize").source()).endsWith("summarize.json").doesNotStartWith("classpath:");
    }
}
