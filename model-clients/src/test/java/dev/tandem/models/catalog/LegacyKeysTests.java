package dev.tandem.models.catalog;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class LegacyKeysTests {

    @Test
    void eachOldKeyWarnsNamingTheKeyOfTheCatalogThatReplacesIt() {
        Map<String, String> config = Map.of(
                "tandem.models.\"qwen-7b\".base-url", "http://vllm:8000/v1",
                "tandem.router.models.\"qwen-7b\".tier", "SMALL",
                "tandem.router.pools.l4.models", "qwen-7b,qwen-32b",
                "tandem.router.pools.l4.endpoint", "dns:///worker-l4:8082",
                "tandem.router.catalog.dir", "/etc/tandem/catalog",
                "tandem.catalog.models.\"qwen-7b\".model", "Qwen/Qwen2.5-7B-Instruct");

        List<String> warnings = LegacyKeys.warnings(config.keySet(), name -> Optional.ofNullable(config.get(name)));

        assertThat(warnings).containsExactly(
                "tandem.models.\"qwen-7b\".base-url is deprecated and read for one more release only: write "
                        + "tandem.catalog.models.\"qwen-7b\".base-url (docs/operations.md, Model catalog)",
                "tandem.router.catalog.dir is deprecated and read for one more release only: write "
                        + "tandem.catalog.dir (docs/operations.md, Model catalog)",
                "tandem.router.models.\"qwen-7b\".tier is deprecated and read for one more release only: write "
                        + "tandem.catalog.models.\"qwen-7b\".tier (docs/operations.md, Model catalog)",
                "tandem.router.pools.l4.models is deprecated and read for one more release only: write "
                        + "tandem.catalog.models.\"qwen-7b\".pools=l4, tandem.catalog.models.\"qwen-32b\".pools=l4 "
                        + "(adding the pool to any a model already lists) (docs/operations.md, Model catalog)");
    }

    @Test
    void environmentVariablesWarnWithTheVariableOfTheCatalog() {
        Map<String, String> env = Map.of(
                "TANDEM_MODELS__QWEN7B__BASE_URL", "http://127.0.0.1:8000/v1",
                "TANDEM_ROUTER_MODELS__QWEN7B__TIER", "SMALL",
                "TANDEM_ROUTER_POOLS__L4__MODELS", "qwen7b",
                "TANDEM_ROUTER_POOLS__L4__ENDPOINT", "dns:///worker-l4:8082",
                "TANDEM_CATALOG_MODELS__QWEN7B__POOLS", "l4");

        assertThat(LegacyKeys.replacement("TANDEM_MODELS__QWEN7B__BASE_URL", n -> Optional.ofNullable(env.get(n))))
                .contains("TANDEM_CATALOG_MODELS__QWEN7B__BASE_URL");
        assertThat(LegacyKeys.replacement("TANDEM_ROUTER_MODELS__QWEN7B__TIER", n -> Optional.ofNullable(env.get(n))))
                .contains("TANDEM_CATALOG_MODELS__QWEN7B__TIER");
        assertThat(LegacyKeys.replacement("TANDEM_ROUTER_POOLS__L4__MODELS", n -> Optional.ofNullable(env.get(n))))
                .hasValueSatisfying(v -> assertThat(v).startsWith("TANDEM_CATALOG_MODELS__QWEN7B__POOLS=l4"));
        assertThat(LegacyKeys.warnings(env.keySet(), n -> Optional.ofNullable(env.get(n)))).hasSize(3);
    }

    @Test
    void theKeysOfTheCatalogAndThePoolsOwnKeysDoNotWarn() {
        var names = List.of("tandem.catalog.models.\"a\".tier", "tandem.router.pools.l4.endpoint",
                "tandem.router.catalog.poll-interval", "tandem.worker.replay-dir", "%test.tandem.models.\"a\".provider");

        assertThat(LegacyKeys.warnings(names, n -> Optional.empty())).isEmpty();
    }

    @Test
    void theWarningsOfAConfigurationNameItsOldKeys() {
        var config = CatalogTestConfig.config(Map.of("tandem.models.\"m\".provider", "embedded",
                "tandem.models.\"m\".encoder", "all-minilm-l6-v2-q"));

        assertThat(LegacyKeys.warnings(config)).hasSize(2).allSatisfy(w -> assertThat(w)
                .contains("write tandem.catalog.models.\"m\"."));
    }
}
