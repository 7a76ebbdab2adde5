package dev.tandem.models;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A dataset of recorded responses a replay model answers from.
 *
 * @param dataset        CSV file with a header row, or a JSONL replay file ({@code *.jsonl}, see
 *                       {@link dev.tandem.models.replay.RecordedPrompts})
 * @param promptColumn   CSV: column holding the prompt (the question) each response answers; JSONL: unused
 * @param responseColumn CSV: column holding this model's recorded response, the only other column ever read;
 *                       JSONL: the model's key under {@code models}
 * @param keyInput       the step input looked up in {@code promptColumn} (e.g. {@code question})
 * @param tokenizer      BPE encoding used to estimate token counts, e.g. {@code cl100k_base}
 */
public record ReplaySource(Path dataset, String promptColumn, String responseColumn, String keyInput,
                           String tokenizer) {

    public ReplaySource {
        Objects.requireNonNull(dataset, "dataset");
        if (responseColumn == null || responseColumn.isBlank()) {
            throw new IllegalArgumentException("a replay model needs the response column it answers from");
        }
        promptColumn = promptColumn == null || promptColumn.isBlank() ? "prompt" : promptColumn;
        keyInput = keyInput == null || keyInput.isBlank() ? "question" : keyInput;
        tokenizer = tokenizer == null || tokenizer.isBlank() ? "cl100k_base" : tokenizer;
        if (promptColumn.equals(responseColumn)) {
            throw new IllegalArgumentException("prompt and response column are the same: " + promptColumn);
        }
    }
}
