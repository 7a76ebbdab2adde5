package dev.tandem.worker;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

/**
 * One WireMock server for the whole test run that stands in for an OpenAI-compatible server (vLLM) under
 * {@code /vllm/v1} and Anthropic under {@code /anthropic}, plus the models that point at them: catalog entries as
 * properties, and the Anthropic model as a file of the catalog directory. Keys come from files, as from a mounted
 * Secret; tests assert the keys never leak.
 */
public class ModelStubs implements QuarkusTestResourceLifecycleManager {

    static final String VLLM_KEY = "sk-vllm-test-5e1f0c9a8b7d6SECRET";
    static final String ANTHROPIC_KEY = "sk-ant-api03-worker-test-2b4d6f8SECRET";
    static WireMockServer server;

    @Override
    public Map<String, String> start() {
        server = new WireMockServer(options().dynamicPort());
        server.start();
        try {
            var dir = Files.createTempDirectory("tandem-keys");
            var vllmKey = Files.writeString(dir.resolve("vllm"), VLLM_KEY + "\n");
            var anthropicKey = Files.writeString(dir.resolve("anthropic"), ANTHROPIC_KEY);
            int closed;
            try (var socket = new ServerSocket(0)) {
                closed = socket.getLocalPort();
            }
            var config = new HashMap<String, String>();
            model(config, "stub-vllm", "openai", server.baseUrl() + "/vllm/v1", "Qwen/Qwen2.5-7B-Instruct", vllmKey,
                    "generation,json_schema,logprobs");
            config.put("tandem.catalog.models.\"stub-vllm\".headers.\"X-Tenant\"", "tandem-tests");
            model(config, "stub-slow", "openai", server.baseUrl() + "/vllm/v1", "Qwen/Qwen2.5-7B-Instruct", vllmKey,
                    "generation,json_schema");
            config.put("tandem.catalog.models.\"stub-slow\".request-timeout", "1s");
            model(config, "stub-vllm-nologprobs", "openai", server.baseUrl() + "/vllm/v1", "Qwen/Qwen2.5-7B-Instruct",
                    vllmKey, "generation,json_schema");
            // one model's whole catalog entry as a file of the catalog directory (a ConfigMap in a cluster): the
            // worker reads how to reach it, the router (not here) what it is
            var catalog = Files.createDirectories(dir.resolve("catalog"));
            Files.writeString(catalog.resolve("stub-claude.yaml"), """
                    provider: anthropic
                    base-url: %s/anthropic
                    model: claude-sonnet-4-5
                    api-key-file: %s
                    capabilities: [generation, json_schema]
                    tier: ORACLE
                    input-usd-per-mtok: 3.00
                    output-usd-per-mtok: 15.00
                    context-tokens: 200000
                    pools: [local]
                    """.formatted(server.baseUrl(), anthropicKey));
            config.put("tandem.catalog.dir", catalog.toString());
            model(config, "stub-refused", "openai", "http://127.0.0.1:" + closed + "/v1", "any", vllmKey,
                    "generation,json_schema");
            return config;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void model(Map<String, String> config, String id, String provider, String baseUrl, String model,
                              Path keyFile, String capabilities) {
        var prefix = "tandem.catalog.models.\"" + id + "\".";
        config.put(prefix + "provider", provider);
        config.put(prefix + "base-url", baseUrl);
        config.put(prefix + "model", model);
        config.put(prefix + "api-key-file", keyFile.toString());
        config.put(prefix + "capabilities", capabilities);
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop();
        }
    }
}
