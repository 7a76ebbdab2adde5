package dev.tandem.models;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.logging.Logger;

/**
 * Creates the ONNX Runtime sessions of the embedded encoders with our session options instead of LangChain4j's
 * defaults (CPU memory arena on, memory-pattern planning on, one intra-op thread per core). Those defaults suit a
 * process running one model on fixed-shape batches; a worker runs two encoders on texts of every length from many
 * virtual threads at once, and with them the sessions' native memory grew far past their weights under load
 * (docs/benchmarks.md, *Embedded encoders: ONNX Runtime session options*).
 */
final class EncoderSessions {

    private static final Logger LOG = Logger.getLogger(EncoderSessions.class.getName());

    /**
     * The session options chosen, and why.
     *
     * @param cpuArena       ONNX Runtime's CPU arena keeps every block it ever allocated (growing in powers of two
     *                       for the largest input seen) and never returns it; off, tensors go to malloc and back.
     *                       Kept on: off made long reviews' p99 three to four times slower (66 → 214-298 ms) for
     *                       little memory once the model no longer passes through the heap (340 vs 314-343 MB).
     * @param memoryPattern  planning caches one allocation plan per input shape; every text length is a new shape,
     *                       so the cache only grows and the plan rarely repeats.
     * @param intraOpThreads a session's own thread pool; 1 runs each call on its calling (virtual) thread: the worker
     *                       already runs many calls in parallel, and a second pool per session would compete with
     *                       them for the same cores.
     */
    record Options(boolean cpuArena, boolean memoryPattern, int intraOpThreads) {

        static final Options CHOSEN = new Options(true, false, 1);
    }

    private EncoderSessions() {
    }

    /** Applies the options to a session's options; graph optimisation stays at ONNX Runtime's default (all). */
    static void apply(Options options, OrtSession.SessionOptions session) throws OrtException {
        session.setCPUArenaAllocator(options.cpuArena());
        session.setMemoryPatternOptimization(options.memoryPattern());
        session.setIntraOpNumThreads(options.intraOpThreads());
        // one thread per session does all the work: nothing for the default inter-op pool to run in parallel
        session.setInterOpNumThreads(1);
    }

    /**
     * An embedding model from an ONNX model and its tokenizer shipped as resources of the jar holding
     * {@code owner} (the LangChain4j model class, not initialised by this: its static initialiser would load a
     * second session with the default options).
     */
    static AbstractInProcessEmbeddingModel load(Class<?> owner, String modelResource, String tokenizerResource,
                                                PoolingMode pooling, int dimension, Options options) {
        var environment = OrtEnvironment.getEnvironment();
        Path modelFile = null;
        try (var sessionOptions = new OrtSession.SessionOptions();
             InputStream tokenizer = resource(owner, tokenizerResource)) {
            apply(options, sessionOptions);
            // From a file, not from bytes: reading a 23-34 MB model into a Java array (as LangChain4j does) grows
            // the heap, which then stays committed; ONNX Runtime reads a file natively. Deleted once loaded.
            modelFile = Files.createTempFile("tandem-encoder-", ".onnx");
            try (var in = resource(owner, modelResource)) {
                Files.copy(in, modelFile, StandardCopyOption.REPLACE_EXISTING);
            }
            var session = environment.createSession(modelFile.toString(), sessionOptions);
            return new SessionModel(new OnnxBertBiEncoder(environment, session, tokenizer, pooling), dimension);
        } catch (OrtException | IOException e) {
            throw new IllegalStateException("cannot load embedded encoder model " + modelResource, e);
        } finally {
            if (modelFile != null) {
                try {
                    Files.deleteIfExists(modelFile);
                } catch (IOException e) {
                    // a leftover temporary file, not a failed load
                    LOG.warning("cannot delete " + modelFile + ": " + e);
                }
            }
        }
    }

    private static InputStream resource(Class<?> owner, String name) throws IOException {
        var in = owner.getResourceAsStream("/" + name);
        if (in == null) {
            throw new IOException("resource " + name + " not found in the jar of " + owner.getName());
        }
        return in;
    }

    /** LangChain4j's in-process model around a session of ours; calls run on the caller's thread. */
    private static final class SessionModel extends AbstractInProcessEmbeddingModel {

        private final OnnxBertBiEncoder encoder;
        private final int dimension;

        SessionModel(OnnxBertBiEncoder encoder, int dimension) {
            super(Runnable::run);
            this.encoder = encoder;
            this.dimension = dimension;
        }

        @Override
        protected OnnxBertBiEncoder model() {
            return encoder;
        }

        @Override
        protected Integer knownDimension() {
            return dimension;
        }
    }
}
