package dev.tandem.models.replay;

import dev.tandem.models.ModelSpec;
import dev.tandem.models.ReplaySource;
import dev.tandem.models.TokenCounter;
import dev.tandem.models.chat.Availability;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.FinishReason;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;
import dev.tandem.models.chat.ModelClient;
import dev.tandem.models.chat.TokenUsage;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * A model that answers with recorded responses: the request's {@code replayKey} (else its last user message) is
 * looked up in the dataset's prompt column and the model's response column is returned as the answer. An unknown
 * prompt is an {@link Kind#UNSUPPORTED} failure naming the model and the dataset, never an invented answer.
 * The dataset records no token counts, so usage is estimated with a real BPE tokenizer ({@link TokenCounter}) and
 * flagged {@code estimated}: input = the chat prompt as sent, output = the recorded response; a JSONL recording's
 * {@code cost_usd} is reported as the call's cost ({@link TokenUsage#reportedCostUsd}). Latency is the
 * lookup time (the recording has none). A missing file makes the model unavailable, not the service: the file is
 * looked for again on the next call.
 */
public final class ReplayModelClient implements ModelClient {

    private static final Logger LOG = Logger.getLogger(ReplayModelClient.class.getName());

    private final ModelSpec spec;
    private final ReplaySource source;
    private final TokenCounter tokens;
    private volatile ReplayDataset dataset;

    public ReplayModelClient(ModelSpec spec) {
        this.spec = spec;
        this.source = spec.replay().orElseThrow(() -> new IllegalArgumentException(
                "model " + spec.id() + " has no replay source"));
        this.tokens = TokenCounter.of(source.tokenizer());
    }

    @Override
    public String modelId() {
        return spec.id();
    }

    @Override
    public Availability availability() {
        try {
            var d = dataset();
            return Availability.up("replay of " + answers(d) + " in " + d.file() + " ("
                    + d.size() + " prompts, tokens estimated with " + tokens.name() + ")");
        } catch (ModelCallException e) {
            return Availability.down(e.getMessage());
        }
    }

    @Override
    public ChatResponse chat(ChatRequest request) {
        // an in-memory look-up: nothing to abort, but a caller that gave up gets no answer
        request.deadline().check(spec.id());
        long start = System.nanoTime();
        var d = dataset();
        var key = request.replayKey().or(request::lastUserText).orElseThrow(() -> new ModelCallException(
                Kind.BAD_REQUEST, spec.id(), "a replay request needs a question to look up"));
        var response = d.response(key).orElseThrow(() -> new ModelCallException(Kind.UNSUPPORTED, spec.id(),
                "the question is not in the replay dataset " + d.file() + " (" + d.size() + " recorded prompts): '"
                        + abbreviate(key) + "'"));
        var counted = new TokenUsage(tokens.countChat(request.messages()), tokens.count(response), 0, 0, true);
        // a recorded cost is what the call really cost: it is billed instead of the estimated tokens
        var usage = d.costUsd(key).map(counted::withReportedCost).orElse(counted);
        return new ChatResponse(response, FinishReason.STOP, "recorded", usage, List.of(),
                Duration.ofNanos(System.nanoTime() - start), source.responseColumn());
    }

    @Override
    public ChatResponse stream(ChatRequest request, Consumer<String> onTextDelta) {
        var response = chat(request);
        onTextDelta.accept(response.text());
        return response;
    }

    @Override
    public void close() {
        // nothing held but memory
    }

    private ReplayDataset dataset() {
        var d = dataset;
        if (d != null) {
            return d;
        }
        synchronized (this) {
            if (dataset == null) {
                var file = source.dataset().toAbsolutePath().normalize();
                if (!Files.isReadable(file)) {
                    throw new ModelCallException(Kind.UNSUPPORTED, spec.id(), "replay dataset " + file
                            + " is not readable (configure tandem.models.\"" + spec.id() + "\".replay.dataset)");
                }
                try {
                    long start = System.nanoTime();
                    dataset = ReplayDataset.load(file, source.promptColumn(), source.responseColumn());
                    LOG.info(String.format("model %s: loaded %d recorded responses from %s (%s) in %d ms",
                            spec.id(), dataset.size(), file, answers(dataset),
                            (System.nanoTime() - start) / 1_000_000));
                } catch (IOException | IllegalArgumentException e) {
                    throw new ModelCallException(Kind.UNSUPPORTED, spec.id(), "replay dataset " + file
                            + " cannot be loaded: " + e.getMessage());
                }
            }
            return dataset;
        }
    }

    /** What a dataset's responses are: a CSV column or a JSONL file's model. */
    private static String answers(ReplayDataset d) {
        return (ReplayDataset.isJsonl(d.file()) ? "model '" : "column '") + d.responseColumn() + "'";
    }

    private static String abbreviate(String s) {
        var oneLine = s.replaceAll("\\s+", " ").strip();
        return oneLine.length() <= 80 ? oneLine : oneLine.substring(0, 77) + "...";
    }
}
