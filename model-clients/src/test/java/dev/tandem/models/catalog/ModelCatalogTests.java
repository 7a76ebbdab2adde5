package dev.tandem.models.catalog;

import dev.tandem.models.Endpoint;
import dev.tandem.models.Provider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelCatalogTests {

    private static final String NEW = "tandem.catalog.models.\"qwen\".";
    private static final String OLD = "tandem.models.\"qwen\".";

    @Test
    void oneEntryHoldsHowToReachTheModelAndWhatItIs() {
        var config = CatalogTestConfig.of(Map.of(
                NEW + "provider", "openai",
                NEW + "base-url", "http://vllm.gpu.svc:8000/v1",
                NEW + "model", "Qwen/Qwen2.5-7B-Instruct",
                NEW + "structured-output", "vllm-guided-json",
                NEW + "capabilities", "generation,json_schema,logprobs",
                NEW + "request-timeout", "10s",
                NEW + "tier", "SMALL",
                NEW + "input-usd-per-mtok", "0.05",
                NEW + "pools", "l4,l4-spot"));

        var read = ModelCatalog.forCallers(config.catalog(), config.models());

        var entry = read.entries().get("qwen");
        assertThat(entry.tier()).isEqualTo("SMALL");
        assertThat(entry.inputUsdPerMtok()).isEqualTo(0.05);
        assertThat(entry.pools()).containsExactly("l4", "l4-spot");
        var spec = ModelSpecs.spec("qwen", entry);
        assertThat(spec.provider()).isEqualTo(Provider.OPENAI);
        assertThat(spec.endpoint().orElseThrow().baseUrl()).hasToString("http://vllm.gpu.svc:8000/v1");
        assertThat(spec.endpoint().orElseThrow().structuredOutput()).isEqualTo(Endpoint.StructuredOutput.VLLM_GUIDED_JSON);
        assertThat(spec.endpoint().orElseThrow().requestTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(spec.can("logprobs")).isTrue();
        assertThat(read.warnings()).isEmpty();
    }

    @Test
    void theOldKeysStillConfigureAModel() {
        var config = CatalogTestConfig.of(Map.of(OLD + "provider", "anthropic", OLD + "model", "claude-sonnet-4-5",
                OLD + "api-key-env", "ANTHROPIC_API_KEY"));

        var read = ModelCatalog.forCallers(config.catalog(), config.models());

        var spec = ModelSpecs.spec("qwen", read.entries().get("qwen"));
        assertThat(spec.provider()).isEqualTo(Provider.ANTHROPIC);
        assertThat(spec.endpoint().orElseThrow().structuredOutput()).isEqualTo(Endpoint.StructuredOutput.TOOL);
    }

    @Test
    void anOldEntryThatSaysTheSameAsTheNewOneOnlyWarns() {
        var properties = new HashMap<String, String>();
        for (var prefix : new String[] {OLD, NEW}) {
            properties.put(prefix + "provider", "openai");
            properties.put(prefix + "model", "qwen2.5-7b-instruct");
            properties.put(prefix + "extra-body", prefix.equals(OLD) ? "{\"top_k\":20}" : "{\"top_k\": 20}");
        }
        properties.put(NEW + "connect-timeout", "5s");
        properties.put(NEW + "tier", "SMALL");
        var config = CatalogTestConfig.of(properties);

        var read = ModelCatalog.forCallers(config.catalog(), config.models());

        assertThat(read.entries().get("qwen").tier()).isEqualTo("SMALL");
        assertThat(read.warnings()).singleElement().asString().contains("tandem.models.\"qwen\".*")
                .contains("the old keys can go");
    }

    @Test
    void anOldEntryThatDiffersFromTheNewOneStopsTheStartNamingBothAndTheKeys() {
        var config = CatalogTestConfig.of(Map.of(
                OLD + "provider", "openai", OLD + "model", "qwen2.5-7b-instruct",
                OLD + "base-url", "http://old:8000/v1",
                NEW + "provider", "openai", NEW + "model", "qwen2.5-7b-instruct",
                NEW + "base-url", "http://new:8000/v1"));

        assertThatThrownBy(() -> ModelCatalog.forCallers(config.catalog(), config.models()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("tandem.models.\"qwen\".* (deprecated)")
                .hasMessageContaining("tandem.catalog.models.\"qwen\".*")
                .hasMessageContaining("differ in base-url:");
    }

    @Test
    void aFileOfTheCatalogDirectoryReplacesThePropertyEntryOfItsId(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("qwen.yaml"), """
                provider: openai
                base-url: http://vllm-b:8000/v1
                model: Qwen/Qwen2.5-7B-Instruct
                connect-timeout: 250ms
                extra-body: {chat_template_kwargs: {enable_thinking: false}}
                tier: small
                pools: [l4]
                """);
        Files.writeString(dir.resolve("gpt.json"), """
                {"id": "gpt-4o-mini", "provider": "openai", "model": "gpt-4o-mini", "api-key-file": "/k/openai"}
                """);
        var config = CatalogTestConfig.of(Map.of("tandem.catalog.dir", dir.toString(),
                NEW + "provider", "openai", NEW + "model", "other", NEW + "base-url", "http://vllm-a:8000/v1"));

        var read = ModelCatalog.forCallers(config.catalog(), config.models());

        assertThat(read.entries()).containsOnlyKeys("qwen", "gpt-4o-mini");
        var qwen = ModelSpecs.spec("qwen", read.entries().get("qwen")).endpoint().orElseThrow();
        assertThat(qwen.baseUrl()).hasToString("http://vllm-b:8000/v1");
        assertThat(qwen.connectTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(qwen.extraBody().at("/chat_template_kwargs/enable_thinking").asBoolean(true)).isFalse();
        assertThat(read.entries().get("gpt-4o-mini").apiKeyFile()).isEqualTo("/k/openai");
    }

    @Test
    void aCatalogEntryThatSaysOnlyWhatTheModelIsTakesHowToReachItFromTheOldKeys() {
        var config = CatalogTestConfig.of(Map.of(OLD + "provider", "openai", OLD + "model", "qwen2.5-7b-instruct",
                NEW + "tier", "SMALL", NEW + "pools", "l4"));

        var read = ModelCatalog.forCallers(config.catalog(), config.models());

        var entry = read.entries().get("qwen");
        assertThat(entry.provider()).isEqualTo(Provider.OPENAI);
        assertThat(entry.model()).isEqualTo("qwen2.5-7b-instruct");
        assertThat(entry.pools()).containsExactly("l4");
    }

    @Test
    void anEntryWithoutAProviderIsForTheRouterOnly() {
        var config = CatalogTestConfig.of(Map.of(NEW + "tier", "MEDIUM", NEW + "pools", "l4"));

        var read = ModelCatalog.forCallers(config.catalog(), config.models());

        assertThat(read.entries()).doesNotContainKey("qwen");
        assertThat(read.notCallable()).containsExactly("qwen");
    }

    @Test
    void anInvalidFileStopsTheStartNamingTheFileAndTheKey(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("qwen.yaml"), "provider: openai\nbase-uri: http://typo:8000/v1\n");
        var config = CatalogTestConfig.of(Map.of("tandem.catalog.dir", dir.toString()));

        assertThatThrownBy(() -> ModelCatalog.forCallers(config.catalog(), config.models()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("qwen.yaml is not a valid model entry")
                .hasMessageContaining("base-uri");
    }
}
