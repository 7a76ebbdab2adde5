package dev.tandem.worker;

import com.google.rpc.ErrorInfo;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static dev.tandem.worker.ExecuteStepTests.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Model servers answering what no server should: the step fails with a status the router fails over on (or, for a
 * request the server rejects, does not retry), carrying the model in its ErrorInfo; never INTERNAL.
 */
@QuarkusTest
@QuarkusTestResource(ModelStubs.class)
class AdversarialModelAnswerTests {

    private static final String CHAT = "/vllm/v1/chat/completions";

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    @BeforeEach
    void reset() {
        ModelStubs.server.resetAll();
    }

    private StatusRuntimeException fails(int status, String body) {
        ModelStubs.server.stubFor(post(CHAT).willReturn(aResponse().withStatus(status)
                .withHeader("Content-Type", "application/json").withBody(body)));
        return catchThrowableOfType(StatusRuntimeException.class, () -> worker.executeStep(step("classify",
                Map.of("text", "I was charged twice."), "stub-vllm-nologprobs").build()));
    }

    private static ErrorInfo errorInfo(StatusRuntimeException e) throws Exception {
        for (var any : StatusProto.fromThrowable(e).getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
                return any.unpack(ErrorInfo.class);
            }
        }
        throw new AssertionError("no ErrorInfo in " + e.getStatus());
    }

    /** JSON that is no completion (a gateway's "{}") was answered INTERNAL "OpenAIInvalidDataException". */
    @Test
    void jsonThatIsNoCompletionIsAMalformedAnswerTheRouterFailsOverOn() throws Exception {
        var e = fails(200, "{}");

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("malformed");
        assertThat(errorInfo(e).getMetadataMap()).containsEntry("model", "stub-vllm-nologprobs");
    }

    /** A provider's error body of 30 KB is quoted in the message, cut to fit the trailers (it was INTERNAL). */
    @Test
    void aProvidersLongErrorBodyStillArrivesAsItsStatus() throws Exception {
        var down = fails(500, "{\"object\":\"error\",\"message\":\"" + "overloaded ".repeat(3_000) + "\"}");
        assertThat(down.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(errorInfo(down).getReason()).isEqualTo("UNAVAILABLE");

        var rejected = fails(400, "{\"object\":\"error\",\"message\":\"" + "é".repeat(30_000) + "\"}");
        assertThat(rejected.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(rejected.getStatus().getDescription()).contains("stub-vllm-nologprobs").endsWith("…");
    }

    /**
     * An answer past its token limit (3 MB here) made a response over the 4 MiB a default grpc-java client takes:
     * the caller failed RESOURCE_EXHAUSTED, which the router reads as a rate limit and benches the worker for.
     */
    @Test
    void anAnswerTooLargeToDeliverIsTheModelsFailure() throws Exception {
        var content = "{\\\"label\\\":\\\"" + "b".repeat(3_000_000) + "\\\"}";
        var e = fails(200, "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{"
                + "\"index\":0,\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\",\"content\":\"" + content
                + "\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":5,\"total_tokens\":10}}");

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(errorInfo(e).getMetadataMap()).containsEntry("model", "stub-vllm-nologprobs");
    }
}
