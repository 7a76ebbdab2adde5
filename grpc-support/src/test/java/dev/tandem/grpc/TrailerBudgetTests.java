package dev.tandem.grpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every service's refusal fits the 8 KiB of trailers a grpc-java client accepts (beyond it the client sees INTERNAL
 * and learns nothing), however many and however long the violations it quotes.
 */
class TrailerBudgetTests {

    /** The bytes of the status trailers as they go on the wire (names and values; HPACK only shrinks them). */
    private static int trailerBytes(io.grpc.StatusRuntimeException e) {
        Metadata trailers = e.getTrailers();
        int size = 0;
        for (String key : trailers.keys()) {
            if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                byte[] value = trailers.get(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER));
                size += key.length() + (value.length + 2) / 3 * 4;
            } else {
                size += key.length() + trailers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER)).length();
            }
        }
        // grpc-message, percent-encoded: every UTF-8 byte outside printable ASCII (and '%') takes three characters
        size += "grpc-message".length();
        for (byte b : e.getStatus().getDescription().getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            size += b >= ' ' && b < '~' && b != '%' ? 1 : 3;
        }
        return size;
    }

    @Test
    void aRefusalQuotingManyLongValuesIsCutToFitAndSaysHowManyViolationsItLeftOut() {
        var violations = new ArrayList<FieldViolation>();
        for (int i = 0; i < 200; i++) {
            violations.add(new FieldViolation("inputs.field_" + i + "x".repeat(300), "é".repeat(2_000)));
        }
        var refusal = BadRequestDetail.invalidArgument("the request is invalid: " + "ü".repeat(5_000), violations);

        assertThat(refusal.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(trailerBytes(refusal)).isLessThanOrEqualTo(8 * 1024);
        var details = StatusProto.fromThrowable(refusal);
        assertThat(details).isNotNull();
        assertThat(details.getMessage()).contains("more violation(s) not shown");
        assertThat(details.getDetailsCount()).isEqualTo(1);
    }

    @Test
    void aRefusalThatFitsIsSentAsItIs() {
        var violations = List.of(new FieldViolation("task_id", "the task id is missing"),
                new FieldViolation("tenant", "at most 128 characters"));
        var refusal = BadRequestDetail.invalidArgument("the request is invalid", violations);

        assertThat(refusal.getStatus().getDescription()).isEqualTo("the request is invalid");
        assertThat(TrailerBudget.fit("the request is invalid", violations).violations()).isEqualTo(violations);
    }
}
