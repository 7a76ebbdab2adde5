package dev.tandem.oracle.fakes;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.tandem.fakes.FakeRouter;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

/**
 * A WireMock server standing in for an OpenAI-compatible API, and the oracle's model {@value FakeRouter#LLM_ORACLE}
 * pointing at it for planning and synthesis. The key comes from a file, as from a mounted Secret.
 */
public class OracleModelStub implements QuarkusTestResourceLifecycleManager {

    public static final String KEY = "sk-oracle-test-7c9e1a3b5d7f9SECRET";
    public static WireMockServer server;

    @Override
    public Map<String, String> start() {
        server = new WireMockServer(options().dynamicPort());
        server.start();
        try {
            var key = Files.writeString(Files.createTempFile("oracle-key", ""), KEY);
            var model = "tandem.catalog.models.\"" + FakeRouter.LLM_ORACLE + "\".";
            return Map.of(
                    model + "provider", "openai",
                    model + "base-url", server.baseUrl() + "/v1",
                    model + "model", "gpt-4o-2024-08-06",
                    model + "api-key-file", key.toString(),
                    "tandem.oracle.planner.model", FakeRouter.LLM_ORACLE,
                    "tandem.oracle.synthesizer.model", FakeRouter.LLM_ORACLE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop();
        }
    }
}
