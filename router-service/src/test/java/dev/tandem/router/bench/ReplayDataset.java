package dev.tandem.router.bench;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * The GSM8K replay data as the benchmark's scorer sees it. This is the only code that reads the correctness
 * columns: the services under test get the question text and nothing else, and the replay backend reads only the
 * prompt and response columns.
 * <p>
 * Split: a question belongs to the tuning split when the first byte of SHA-256(prompt) is below 128, else to the
 * evaluation split; prompts listed in {@code contaminated_prompts.jsonl} are in neither (RouteLLM excludes them).
 * The tuning split warms the services up (their learning from reviews) and is where thresholds may be tuned; the
 * evaluation split is only ever scored.
 */
final class ReplayDataset {

    static final String WEAK_COLUMN = "mistralai/Mixtral-8x7B-Instruct-v0.1";
    static final String STRONG_COLUMN = "gpt-4-1106-preview";

    /** One question with the scorer's labels: whether each model's recorded answer is correct. */
    record Question(String prompt, boolean weakCorrect, boolean strongCorrect, boolean tuning) {
    }

    final List<Question> tuning = new ArrayList<>();
    final List<Question> evaluation = new ArrayList<>();
    final int contaminatedExcluded;
    final int total;

    private ReplayDataset(List<Question> all, int contaminated) {
        for (Question q : all) {
            (q.tuning() ? tuning : evaluation).add(q);
        }
        this.contaminatedExcluded = contaminated;
        this.total = all.size() + contaminated;
    }

    static ReplayDataset load(Path dir) throws IOException {
        Set<String> contaminated = new HashSet<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(dir.resolve("contaminated_prompts.jsonl"), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                JsonNode node = json.readTree(line);
                contaminated.add(node.path("eval_prompt").asText());
            }
        }
        Map<String, Question> questions = new LinkedHashMap<>();
        int excluded = 0;
        try (Reader reader = Files.newBufferedReader(dir.resolve("gsm8k_responses.csv"), StandardCharsets.UTF_8);
             CSVParser csv = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(reader)) {
            for (CSVRecord r : csv) {
                String prompt = r.get("prompt");
                if (contaminated.contains(prompt)) {
                    excluded++;
                    continue;
                }
                questions.put(prompt, new Question(prompt, Boolean.parseBoolean(r.get(WEAK_COLUMN)),
                        Boolean.parseBoolean(r.get(STRONG_COLUMN)), tuning(prompt)));
            }
        }
        return new ReplayDataset(new ArrayList<>(questions.values()), excluded);
    }

    static boolean tuning(String prompt) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(prompt.getBytes(StandardCharsets.UTF_8));
            return (h[0] & 0xff) < 128;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static double accuracy(List<Question> qs, boolean strong) {
        long correct = qs.stream().filter(q -> strong ? q.strongCorrect() : q.weakCorrect()).count();
        return qs.isEmpty() ? 0 : (double) correct / qs.size();
    }
}
