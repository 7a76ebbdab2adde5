package dev.tandem.models;

import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

class EncoderSessionsTests {

    private static final List<String> TEXTS = List.of(
            "hello",
            "I was charged twice, please refund one payment.",
            "The tracking number you sent does not work and my parcel is a week late.",
            // longer than one 510-token window: the encoder splits and averages
            "The museum reopens in May after renovation; entry will be free on Sundays. ".repeat(60));

    @Test
    void ourSessionsEncodeAsLangChain4jsDefaultSessionsDo() {
        // the library's models, with their default session options, are the reference
        var references = Map.<String, EmbeddingModel>of(
                EmbeddedEncoders.MINILM, new AllMiniLmL6V2QuantizedEmbeddingModel(Runnable::run),
                EmbeddedEncoders.BGE_SMALL, new BgeSmallEnV15QuantizedEmbeddingModel(Runnable::run));
        references.forEach((name, reference) -> {
            var ours = EmbeddedEncoders.get(name).embedAll(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                float[] expected = reference.embed(TextSegment.from(TEXTS.get(i))).content().vector();
                assertThat(ours.get(i)).as(name + " text " + i).hasSameSizeAs(expected);
                assertThat(Vectors.cosine(ours.get(i), expected)).as(name + " text " + i)
                        .isCloseTo(1.0, offset(1e-4));
            }
        });
    }

    @Test
    void sessionsGetTheChosenOptions() throws Exception {
        try (var options = new RecordingOptions()) {
            EncoderSessions.apply(EncoderSessions.Options.CHOSEN, options);

            assertThat(options.applied).containsExactly("cpu-arena=true", "memory-pattern=false",
                    "intra-op-threads=1", "inter-op-threads=1");
        }
    }

    @Test
    void aLoadedModelKnowsItsDimension() {
        var model = EncoderSessions.load(AllMiniLmL6V2QuantizedEmbeddingModel.class, "all-minilm-l6-v2-q.onnx",
                "all-minilm-l6-v2-q-tokenizer.json", PoolingMode.MEAN, 384, EncoderSessions.Options.CHOSEN);

        assertThat(model.dimension()).isEqualTo(384);
        assertThat(model.embed("hello").content().vector()).hasSize(384);
    }

    @Test
    void aMissingModelFileIsAClearError() {
        assertThatThrownBy(() -> EncoderSessions.load(AllMiniLmL6V2QuantizedEmbeddingModel.class, "nothing.onnx",
                "all-minilm-l6-v2-q-tokenizer.json", PoolingMode.MEAN, 384, EncoderSessions.Options.CHOSEN))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("nothing.onnx");
    }

    /** Session options that also record what was set on them (ONNX Runtime offers no getters for these). */
    private static final class RecordingOptions extends OrtSession.SessionOptions {

        final List<String> applied = new ArrayList<>();

        @Override
        public void setCPUArenaAllocator(boolean on) throws ai.onnxruntime.OrtException {
            applied.add("cpu-arena=" + on);
            super.setCPUArenaAllocator(on);
        }

        @Override
        public void setMemoryPatternOptimization(boolean on) throws ai.onnxruntime.OrtException {
            applied.add("memory-pattern=" + on);
            super.setMemoryPatternOptimization(on);
        }

        @Override
        public void setIntraOpNumThreads(int threads) throws ai.onnxruntime.OrtException {
            applied.add("intra-op-threads=" + threads);
            super.setIntraOpNumThreads(threads);
        }

        @Override
        public void setInterOpNumThreads(int threads) throws ai.onnxruntime.OrtException {
            applied.add("inter-op-threads=" + threads);
            super.setInterOpNumThreads(threads);
        }
    }
}
