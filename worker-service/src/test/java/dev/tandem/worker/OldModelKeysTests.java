package dev.tandem.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.tandem.worker.ExecuteStepTests.step;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A model configured with the keys the model catalog replaced, {@code tandem.models."<id>".*}, still runs steps for
 * this release, and each of its keys logs a warning naming the catalog key to write instead.
 */
@QuarkusTest
@TestProfile(OldModelKeysTests.OldKeys.class)
class OldModelKeysTests {

    static final Path LOG = Path.of("target", "old-model-keys.log");

    /** A replay model in the old form, and the log written to a file the test reads. */
    public static class OldKeys implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // called before the application starts: the log the test reads is this start's alone
            try {
                Files.deleteIfExists(LOG);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of(
                    "tandem.models.\"legacy-replay\".provider", "replay",
                    "tandem.models.\"legacy-replay\".replay.dataset", "src/test/resources/replay/fixture.csv",
                    "tandem.models.\"legacy-replay\".replay.response-column", "model_a_response",
                    "tandem.models.\"legacy-replay\".capabilities", "generation",
                    "quarkus.log.file.enabled", "true",
                    "quarkus.log.file.path", LOG.toString());
        }
    }

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    @Test
    void aModelOfTheOldKeysRunsStepsAndEachKeyWarnsNamingTheNewOne() throws Exception {
        var response = worker.executeStep(step("solve", Map.of("question", "A baker makes 48 rolls and sells half "
                + "of them in the morning. How many rolls are left?"), "legacy-replay").build());

        assertThat(new ObjectMapper().readTree(response.getOutput()).get("answer").asDouble()).isEqualTo(24.0);
        assertThat(Files.readString(LOG))
                .contains("tandem.models.\"legacy-replay\".provider is deprecated and read for one more release "
                        + "only: write tandem.catalog.models.\"legacy-replay\".provider")
                .contains("write tandem.catalog.models.\"legacy-replay\".replay.dataset");
    }
}
