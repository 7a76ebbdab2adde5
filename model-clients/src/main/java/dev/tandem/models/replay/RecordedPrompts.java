package dev.tandem.models.replay;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The reader of replay files in the JSONL format, one prompt a line:
 * {@code {"id", "dataset", "prompt", "models": {"<model>": {"response", "correct", "cost_usd"}}}}, any number of
 * models and datasets. This is the reader the system under test uses (the replay backend), and what it reads has
 * no place for correctness: {@link Prompt} and {@link Response} have no such component, and the parser binds to
 * them, skipping every other field ({@code correct} and any comparison labels) without keeping it. Only a
 * benchmark's scorer, with its own reader, looks at {@code correct}.
 */
public final class RecordedPrompts {

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private RecordedPrompts() {
    }

    /**
     * One model's recorded response.
     *
     * @param response the text the model answered
     * @param costUsd  what the call cost when the recording says, else null (then the token estimate prices it)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Response(@JsonProperty("response") String response, @JsonProperty("cost_usd") Double costUsd) {

        /** The recorded cost of the call, when the file has one. */
        public Optional<Double> cost() {
            return Optional.ofNullable(costUsd);
        }
    }

    /** One recorded prompt and every model's response to it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Prompt(@JsonProperty("id") String id, @JsonProperty("dataset") String dataset,
                         @JsonProperty("prompt") String prompt,
                         @JsonProperty("models") Map<String, Response> models) {

        public Prompt {
            models = models == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(models));
        }
    }

    /**
     * Reads every line of a JSONL replay file (blank lines skipped).
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException naming the line when one is not a recorded prompt
     */
    public static List<Prompt> read(Path file) throws IOException {
        var prompts = new ArrayList<Prompt>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = reader.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                prompts.add(parse(line, file + ":" + number));
            }
        }
        return prompts;
    }

    /** Parses one line; {@code where} names it in errors. */
    static Prompt parse(String line, String where) {
        Prompt p;
        try {
            p = JSON.readValue(line, Prompt.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(where + ": not a recorded prompt: " + e.getOriginalMessage());
        }
        if (p.prompt() == null || p.prompt().isBlank()) {
            throw new IllegalArgumentException(where + ": no \"prompt\"");
        }
        for (var m : p.models().entrySet()) {
            if (m.getValue() == null || m.getValue().response() == null) {
                throw new IllegalArgumentException(where + ": model '" + m.getKey() + "' has no \"response\"");
            }
            if (m.getValue().costUsd() != null && !(m.getValue().costUsd() >= 0)) {
                throw new IllegalArgumentException(where + ": model '" + m.getKey() + "' has a negative cost_usd");
            }
        }
        return p;
    }
}
