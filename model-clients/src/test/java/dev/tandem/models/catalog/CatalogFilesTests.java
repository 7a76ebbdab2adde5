package dev.tandem.models.catalog;

import dev.tandem.models.Provider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CatalogFilesTests {

    private final CatalogFiles files = new CatalogFiles();

    @Test
    void aFileIsOneModelNamedAfterIt() {
        var file = files.parse("claude-oracle.yml", """
                provider: anthropic
                model: claude-sonnet-4-5
                api-key-file: /etc/tandem/keys/anthropic
                tier: ORACLE
                output-usd-per-mtok: 15.00
                context-tokens: 200000
                """.getBytes(StandardCharsets.UTF_8));

        assertThat(file.isEntry()).isTrue();
        assertThat(file.entry().id()).isEqualTo("claude-oracle");
        assertThat(file.entry().provider()).isEqualTo(Provider.ANTHROPIC);
        assertThat(file.entry().contextTokens()).isEqualTo(200000);
    }

    @Test
    void aFileOfModelsAndPoolsIsARouterDocument() {
        var file = files.parse("00-catalog.json", """
                {"models": {"m": {"tier": "SMALL"}}, "pools": {"p": {"endpoint": "localhost:8082"}}}
                """.getBytes(StandardCharsets.UTF_8));

        assertThat(file.isEntry()).isFalse();
        assertThat(file.document().at("/pools/p/endpoint").asText()).isEqualTo("localhost:8082");
    }

    @Test
    void anEntryThatListsItsPoolsIsAnEntry() {
        var file = files.parse("qwen.json", "{\"pools\": [\"l4\"]}".getBytes(StandardCharsets.UTF_8));

        assertThat(file.isEntry()).isTrue();
        assertThat(file.entry().pools()).containsExactly("l4");
    }

    @Test
    void aDirectoryReadsJsonAndYamlInNameOrderAndSkipsOtherFiles(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("b.yaml"), "provider: embedded\nencoder: all-minilm-l6-v2-q\n");
        Files.writeString(dir.resolve("a.json"), "{\"provider\": \"replay\"}");
        Files.writeString(dir.resolve("README.md"), "not a catalog file");
        Files.createDirectory(dir.resolve("..2026_12_06"));

        var read = files.read(dir);

        assertThat(read.files()).extracting(CatalogFiles.File::name).containsExactly("a.json", "b.yaml");
        assertThat(read.entries()).containsOnlyKeys("a", "b");
        var again = files.read(dir);
        assertThat(again.fingerprint()).isEqualTo(read.fingerprint());
        Files.writeString(dir.resolve("b.yaml"), "provider: embedded\nencoder: bge-small-en-v15-q\n");
        assertThat(files.read(dir).fingerprint()).isNotEqualTo(read.fingerprint());
    }

    @Test
    void twoFilesForOneModelAreAnError(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("qwen.yaml"), "provider: openai\nmodel: q\n");
        Files.writeString(dir.resolve("qwen-copy.json"), "{\"id\": \"qwen\", \"provider\": \"openai\", \"model\": \"q\"}");

        assertThatThrownBy(() -> files.read(dir).entries())
                .isInstanceOf(CatalogFiles.InvalidCatalogFileException.class)
                .hasMessageContaining("model 'qwen' is defined by both qwen-copy.json and qwen.yaml");
    }

    @Test
    void aBadDurationOrAnUnknownKeyIsAnErrorNamingTheFile() {
        assertThatThrownBy(() -> files.parse("m.yaml", "provider: openai\nrequest-timeout: soon\n"
                .getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("m.yaml is not a valid model entry").hasMessageContaining("soon");
        assertThatThrownBy(() -> files.parse("m.json", "{\"teir\": \"SMALL\"}".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("m.json is not a valid model entry").hasMessageContaining("teir");
    }
}
