package dev.tandem.router.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.tandem.router.catalog.Catalog;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

/** The router's catalog from the model catalog's entries, the deprecated router keys, or both. */
class CatalogDefinitionTests {

    @Test
    void aModelEntryNamesThePoolsThatServeIt() {
        var config = config(Map.of(
                "tandem.catalog.models.\"qwen\".provider", "openai",
                "tandem.catalog.models.\"qwen\".model", "Qwen/Qwen2.5-7B-Instruct",
                "tandem.catalog.models.\"qwen\".tier", "small",
                "tandem.catalog.models.\"qwen\".input-usd-per-mtok", "0.05",
                "tandem.catalog.models.\"qwen\".pools", "l4",
                "tandem.catalog.models.\"planner-only\".provider", "anthropic",
                "tandem.router.pools.l4.endpoint", "dns:///worker-l4:8082"));

        Catalog catalog = catalog(config);

        assertThat(catalog.model("qwen")).hasValueSatisfying(m -> {
            assertThat(m.tier()).isEqualTo(ModelTier.SMALL);
            assertThat(m.inputUsdPerMtok()).isEqualTo(0.05);
        });
        assertThat(catalog.model("planner-only")).as("no tier: not routed to").isEmpty();
        assertThat(catalog.pool("l4").orElseThrow().models()).containsExactly("qwen");
    }

    @Test
    void theOldRouterKeysStillDefineModelsAndPools() {
        var config = config(Map.of(
                "tandem.router.models.\"old\".tier", "MEDIUM",
                "tandem.router.models.\"old\".output-usd-per-mtok", "0.6",
                "tandem.router.pools.p.endpoint", "localhost:8082",
                "tandem.router.pools.p.models", "old"));

        Catalog catalog = catalog(config);

        assertThat(catalog.model("old").orElseThrow().outputUsdPerMtok()).isEqualTo(0.6);
        assertThat(catalog.pool("p").orElseThrow().models()).containsExactly("old");
    }

    @Test
    void aPoolThatListsItsModelsServesExactlyThose() {
        var config = config(Map.of(
                "tandem.catalog.models.\"a\".tier", "SMALL",
                "tandem.catalog.models.\"a\".pools", "p",
                "tandem.catalog.models.\"b\".tier", "SMALL",
                "tandem.catalog.models.\"b\".pools", "p",
                "tandem.router.pools.p.endpoint", "localhost:8082",
                "tandem.router.pools.p.models", "b"));

        assertThat(catalog(config).pool("p").orElseThrow().models()).containsExactly("b");
    }

    @Test
    void oldAndNewKeysThatAgreeAreOneModel() {
        var config = config(Map.of(
                "tandem.router.models.\"m\".tier", "SMALL",
                "tandem.router.models.\"m\".context-tokens", "8192",
                "tandem.catalog.models.\"m\".tier", "SMALL",
                "tandem.catalog.models.\"m\".pools", "p",
                "tandem.router.pools.p.endpoint", "localhost:8082"));

        assertThat(catalog(config).pool("p").orElseThrow().models()).containsExactly("m");
    }

    @Test
    void oldAndNewKeysThatDifferStopTheStartNamingBoth() {
        var config = config(Map.of(
                "tandem.router.models.\"m\".tier", "SMALL",
                "tandem.catalog.models.\"m\".tier", "MEDIUM",
                "tandem.router.pools.p.endpoint", "localhost:8082",
                "tandem.router.pools.p.models", "m"));

        assertThatThrownBy(() -> catalog(config))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("model 'm' is defined by both tandem.router.models.\"m\".* (deprecated) and "
                        + "tandem.catalog.models.\"m\".*, and they differ");
    }

    @Test
    void aPoolThatServesNoModelIsAnError() {
        var config = config(Map.of("tandem.router.pools.empty.endpoint", "localhost:8082"));

        assertThatThrownBy(() -> catalog(config)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pools.empty serves no model");
    }

    @Test
    void batchPricesFromTheCatalogOfferAModelsBatchPathAndGoTogether() {
        var config = config(Map.of(
                "tandem.catalog.models.\"gpt\".tier", "MEDIUM",
                "tandem.catalog.models.\"gpt\".input-usd-per-mtok", "0.15",
                "tandem.catalog.models.\"gpt\".output-usd-per-mtok", "0.60",
                "tandem.catalog.models.\"gpt\".batch-input-usd-per-mtok", "0.075",
                "tandem.catalog.models.\"gpt\".batch-output-usd-per-mtok", "0.30",
                "tandem.catalog.models.\"gpt\".pools", "p",
                "tandem.catalog.models.\"plain\".tier", "SMALL",
                "tandem.catalog.models.\"plain\".pools", "p",
                "tandem.router.pools.p.endpoint", "localhost:8082"));

        Catalog catalog = catalog(config);

        var gpt = catalog.model("gpt").orElseThrow();
        assertThat(gpt.offersBatch()).isTrue();
        // 1M input and 1M output tokens: $0.75 interactive, $0.375 through the batch API
        assertThat(gpt.costUsd(1_000_000, 1_000_000, 0, false)).isEqualTo(0.75);
        assertThat(gpt.costUsd(1_000_000, 1_000_000, 0, true)).isEqualTo(0.375);
        var plain = catalog.model("plain").orElseThrow();
        assertThat(plain.offersBatch()).isFalse();
        assertThat(plain.costUsd(1000, 1000, 0, true)).as("no batch path: interactive prices")
                .isEqualTo(plain.costUsd(1000, 1000, 0));

        var half = config(Map.of(
                "tandem.catalog.models.\"gpt\".tier", "MEDIUM",
                "tandem.catalog.models.\"gpt\".batch-input-usd-per-mtok", "0.075",
                "tandem.catalog.models.\"gpt\".pools", "p",
                "tandem.router.pools.p.endpoint", "localhost:8082"));
        assertThatThrownBy(() -> catalog(half)).hasMessageContaining(
                "models.gpt.batch-input-usd-per-mtok and batch-output-usd-per-mtok go together");
    }

    private static Catalog catalog(SmallRyeConfig config) {
        return Catalog.from(config.getConfigMapping(RouterConfig.class),
                config.getConfigMapping(ModelCatalogConfig.class).catalog());
    }

    private static SmallRyeConfig config(Map<String, String> properties) {
        Map<String, String> all = new HashMap<>(properties);
        all.put("tandem.router.exploration-budget.share", "0.05");
        return new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(all, "test", 250))
                .withConverter(Duration.class, 200, new DurationConverter())
                .withMapping(RouterConfig.class).withMapping(ModelCatalogConfig.class).build();
    }
}
