package dev.tandem.models.replay;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Recorded responses of one model, by prompt: either the prompt column and one response column of a CSV file with a
 * header row, or one model's responses in a JSONL replay file ({@link RecordedPrompts}, a file named {@code *.jsonl};
 * the "column" is then the model's key under {@code models}). Nothing else of a row is kept or looked at, so a
 * dataset's correctness labels (RouteLLM's True/False columns, the JSONL {@code correct}) can never reach the system
 * under test.
 */
public final class ReplayDataset {

    /** Values that mark a label column rather than a response column. */
    private static final Set<String> LABEL_VALUES = Set.of("true", "false", "0", "1", "yes", "no");

    private final Path file;
    private final String responseColumn;
    private final Map<String, String> responses;
    private final Map<String, Double> costs;

    private ReplayDataset(Path file, String responseColumn, Map<String, String> responses, Map<String, Double> costs) {
        this.file = file;
        this.responseColumn = responseColumn;
        this.responses = responses;
        this.costs = costs;
    }

    /** Whether a file is read as a JSONL replay file rather than a CSV table. */
    public static boolean isJsonl(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl");
    }

    /**
     * Loads the prompt and response columns of a CSV file.
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException when a column is missing, a prompt repeats with another response, or the
     *                                  response column holds labels instead of responses
     */
    public static ReplayDataset load(Path file, String promptColumn, String responseColumn) throws IOException {
        if (isJsonl(file)) {
            return loadJsonl(file, responseColumn);
        }
        var format = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser parser = CSVParser.parse(reader, format)) {
            var header = parser.getHeaderNames();
            for (var column : List.of(promptColumn, responseColumn)) {
                if (!header.contains(column)) {
                    throw new IllegalArgumentException(file + " has no column '" + column + "'; columns: " + header);
                }
            }
            var responses = new HashMap<String, String>();
            int labelLike = 0;
            for (var record : parser) {
                // Only these two fields of the record are read.
                var prompt = record.get(promptColumn);
                var response = record.get(responseColumn);
                if (LABEL_VALUES.contains(response.strip().toLowerCase(Locale.ROOT))) {
                    labelLike++;
                }
                var key = normalise(prompt);
                var previous = responses.putIfAbsent(key, response);
                if (previous != null && !previous.equals(response)) {
                    throw new IllegalArgumentException(file + ": the prompt on line " + record.getRecordNumber()
                            + " appears twice with different responses");
                }
            }
            if (!responses.isEmpty() && labelLike == responses.size()) {
                throw new IllegalArgumentException(file + ": column '" + responseColumn
                        + "' holds labels (True/False), not responses; a replay model answers from a response column");
            }
            return new ReplayDataset(file, responseColumn, Map.copyOf(responses), Map.of());
        }
    }

    /**
     * One model's responses of a JSONL replay file; prompts the model has no response to are not its. The
     * {@code correct} fields are never read: {@link RecordedPrompts} has no place for them.
     */
    private static ReplayDataset loadJsonl(Path file, String model) throws IOException {
        var responses = new HashMap<String, String>();
        var costs = new HashMap<String, Double>();
        var models = new TreeSet<String>();
        for (var prompt : RecordedPrompts.read(file)) {
            models.addAll(prompt.models().keySet());
            var recorded = prompt.models().get(model);
            if (recorded == null) {
                continue;
            }
            var key = normalise(prompt.prompt());
            var previous = responses.putIfAbsent(key, recorded.response());
            if (previous != null && !previous.equals(recorded.response())) {
                throw new IllegalArgumentException(file + ": the prompt '" + prompt.id()
                        + "' appears twice with different responses of " + model);
            }
            recorded.cost().ifPresent(c -> costs.put(key, c));
        }
        if (responses.isEmpty()) {
            throw new IllegalArgumentException(file + " has no responses of model '" + model + "'; models: " + models);
        }
        return new ReplayDataset(file, model, Map.copyOf(responses), Map.copyOf(costs));
    }

    /** The recorded response to a prompt, matched after {@link #normalise normalisation}. */
    public Optional<String> response(String prompt) {
        return Optional.ofNullable(responses.get(normalise(prompt)));
    }

    /** The recorded cost of the response to a prompt, when the dataset records costs (JSONL {@code cost_usd}). */
    public Optional<Double> costUsd(String prompt) {
        return Optional.ofNullable(costs.get(normalise(prompt)));
    }

    /** Number of recorded prompts. */
    public int size() {
        return responses.size();
    }

    public Path file() {
        return file;
    }

    public String responseColumn() {
        return responseColumn;
    }

    /**
     * The form prompts are matched in: Unicode NFKC, typographic quotes and dashes as ASCII, lower case, runs of
     * white space as one space, trimmed. A question re-typed with straight quotes or re-wrapped still matches.
     */
    public static String normalise(String text) {
        var s = Normalizer.normalize(text, Normalizer.Form.NFKC)
                .replace('\u2018', '\'').replace('\u2019', '\'').replace('\u201C', '"').replace('\u201D', '"')
                .replace('\u2013', '-').replace('\u2014', '-');
        return s.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip();
    }
}
