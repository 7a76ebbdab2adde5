package dev.tandem.oracle;

import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.tandem.oracle.TestPlans.classify;
import static dev.tandem.oracle.TestPlans.plan;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded planner's encoder (an ONNX session, tens of MB of native memory) loads for the first task that names
 * no pipeline, never at start-up nor for tasks that name a pipeline or send a plan. Its own profile gives it a fresh
 * application (and so a fresh set of loaded encoders), whatever other tests ran before in this JVM.
 */
@QuarkusTest
@TestProfile(LazyPlannerEncoderTests.FreshApplication.class)
class LazyPlannerEncoderTests extends OracleTestBase {

    /** A profile of its own, so the application (and the encoders it loaded) is not shared with other tests. */
    public static class FreshApplication implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tandem.oracle.planner.preload-encoder", "false");
        }
    }

    @Test
    void theEncoderLoadsForTheFirstTaskThatNamesNoPipelineOnly() {
        assertThat(EmbeddedEncoders.loaded()).as("loaded at start-up").isEmpty();

        var named = oracle().execute(ExecuteRequest.newBuilder().setTask("Pull the fields out of this ticket")
                .setPipeline("field-extraction").putInputs("document", ticket()).build());
        assertThat(named.getPlan().getPipeline()).isEqualTo("field-extraction");
        assertThat(named.getPlan().getRationale()).contains("named by the client");
        var sent = oracle().execute(ExecuteRequest.newBuilder().setPlan(plan(classify("a")))
                .putInputs("document", ticket()).build());
        assertThat(sent.getPlan().getPlanner()).isEqualTo("client");
        assertThat(EmbeddedEncoders.loaded()).as("loaded for a named pipeline or a client plan").isEmpty();

        var matched = oracle().execute(triage());
        assertThat(matched.getPlan().getPipeline()).isEqualTo("document-triage");
        assertThat(matched.getPlan().getRationale()).contains("similarity");
        assertThat(EmbeddedEncoders.loaded()).as("loaded to match a task to a pipeline")
                .containsExactly(EmbeddedEncoders.MINILM);
    }
}
