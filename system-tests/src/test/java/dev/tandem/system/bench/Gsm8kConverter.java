package dev.tandem.system.bench;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Converts the shared RouteLLM GSM8K data ({@code gsm8k_responses.csv}, {@code test.jsonl},
 * {@code contaminated_prompts.jsonl}) into the JSONL replay format, one question a line:
 * {@code {"id": "gsm8k-<line of test.jsonl>", "dataset": "gsm8k", "prompt", "models": {"<model>": {"response",
 * "correct", "routellm_correct"}}}}. {@code correct} is whether the response's final number equals the reference
 * answer of {@code test.jsonl}, both parsed by {@link Gsm8kAnswers}; {@code routellm_correct} is RouteLLM's True/False
 * label, kept for comparison with RouteLLM's published figures only. The data records no costs, so no
 * {@code cost_usd}. The contaminated prompts are left out, as RouteLLM does.
 * <p>
 * {@code bin/bench-routing convert-gsm8k [--data DIR] [--out FILE]}; the benchmark also runs it when given no file.
 */
final class Gsm8kConverter {

    static final List<String> MODELS = List.of("mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview");

    /** What a conversion wrote. */
    record Summary(int written, int contaminated, Map<String, Integer> correct, Map<String, Integer> labelled) {
    }

    private Gsm8kConverter() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(System.getProperty("tandem.root", "..")).toAbsolutePath().normalize();
        Path data = ReplayBenchmark.Options.defaultData(root);
        Path out = root.resolve("system-tests/target/bench/gsm8k.jsonl");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data" -> data = Path.of(args[++i]).toAbsolutePath();
                case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Summary s = convert(data, out);
        System.out.printf("gsm8k: wrote %d questions to %s (%d contaminated left out); right by the reference "
                + "number: %s; by RouteLLM's labels: %s%n", s.written(), out, s.contaminated(), s.correct(), s.labelled());
    }

    static Summary convert(Path dir, Path out) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Set<String> contaminated = new HashSet<>();
        for (String line : Files.readAllLines(dir.resolve("contaminated_prompts.jsonl"), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                contaminated.add(json.readTree(line).path("eval_prompt").asText());
            }
        }
        Map<String, BigDecimal> references = new HashMap<>();
        Map<String, Integer> lineOf = new HashMap<>();
        int n = 0;
        for (String line : Files.readAllLines(dir.resolve("test.jsonl"), StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = json.readTree(line);
            String question = node.path("question").asText();
            references.put(question, Gsm8kAnswers.finalNumber(node.path("answer").asText())
                    .orElseThrow(() -> new IOException("test.jsonl: no final number in " + node)));
            lineOf.put(question, n);
        }
        Map<String, Integer> correct = new LinkedHashMap<>();
        Map<String, Integer> labelled = new LinkedHashMap<>();
        int written = 0;
        int excluded = 0;
        Files.createDirectories(out.toAbsolutePath().getParent());
        try (Reader reader = Files.newBufferedReader(dir.resolve("gsm8k_responses.csv"), StandardCharsets.UTF_8);
             CSVParser csv = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(reader);
             Writer writer = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            for (CSVRecord r : csv) {
                String prompt = r.get("prompt");
                if (contaminated.contains(prompt)) {
                    excluded++;
                    continue;
                }
                BigDecimal reference = references.get(prompt);
                if (reference == null) {
                    throw new IOException("gsm8k_responses.csv line " + r.getRecordNumber()
                            + ": a prompt that is not in test.jsonl");
                }
                ObjectNode node = json.createObjectNode();
                node.put("id", "gsm8k-" + lineOf.get(prompt));
                node.put("dataset", "gsm8k");
                node.put("prompt", prompt);
                ObjectNode models = node.putObject("models");
                for (String model : MODELS) {
                    String response = r.get(model + "_response");
                    boolean right = Gsm8kAnswers.matches(response, reference);
                    boolean label = Boolean.parseBoolean(r.get(model));
                    models.putObject(model).put("response", response).put("correct", right)
                            .put("routellm_correct", label);
                    correct.merge(model, right ? 1 : 0, Integer::sum);
                    labelled.merge(model, label ? 1 : 0, Integer::sum);
                }
                writer.write(json.writeValueAsString(node));
                writer.write('\n');
                written++;
            }
        }
        return new Summary(written, excluded, correct, labelled);
    }
}
