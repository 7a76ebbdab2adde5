package dev.tandem.models;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EmbeddedEncodersTests {

    @Test
    void similarMeaningsAreCloserThanUnrelatedOnes() {
        for (var name : EmbeddedEncoders.names()) {
            var encoder = EmbeddedEncoders.get(name);
            var v = encoder.embedAll(List.of("The invoice is overdue and must be paid.",
                    "Payment for this bill is late.", "The cat sleeps on the sofa."));
            assertThat(Vectors.cosine(v.get(0), v.get(1)))
                    .as(name).isGreaterThan(Vectors.cosine(v.get(0), v.get(2)) + 0.1);
            assertThat(Vectors.cosine(v.get(0), v.get(0))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void countsWordPieceTokens() {
        var encoder = EmbeddedEncoders.get(EmbeddedEncoders.MINILM);
        assertThat(encoder.countTokens("")).isZero();
        assertThat(encoder.countTokens("hello world")).isEqualTo(2);
        assertThat(encoder.countTokens("hello world, this is a longer sentence")).isGreaterThan(5);
    }

    @Test
    void countingTokensLoadsNoEncoder() {
        var before = EmbeddedEncoders.loaded();
        assertThat(EmbeddedEncoders.countTokens("")).isZero();
        assertThat(EmbeddedEncoders.countTokens("hello world")).isEqualTo(2);
        // the tokenizer alone: no ONNX session is loaded to count (the oracle bills a named pipeline's task with it)
        assertThat(EmbeddedEncoders.loaded()).isEqualTo(before);
    }

    @Test
    void unknownEncoderIsAClearError() {
        assertThatThrownBy(() -> EmbeddedEncoders.get("gpt-17"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("available");
    }

    @Test
    void softmaxSumsToOneAndSharpensWithLowerTemperature() {
        double[] warm = Vectors.softmax(new double[] {0.5, 0.4}, 1.0);
        double[] cold = Vectors.softmax(new double[] {0.5, 0.4}, 0.05);
        assertThat(warm[0] + warm[1]).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(cold[0]).isGreaterThan(warm[0]);
    }
}
