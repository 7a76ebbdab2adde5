package dev.tandem.system.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A JSONL replay file as the benchmark's scorer sees it, one prompt a line:
 * {@code {"id", "dataset", "prompt", "models": {"<model>": {"response", "correct", "cost_usd"}}}}. This is the only
 * code that reads {@code correct} (and any comparison label such as the GSM8K converter's {@code routellm_correct}):
 * the services under test get the prompt text and nothing else, and the replay backend reads the file through
 * {@code RecordedPrompts}, whose types have no place for them.
 * <p>
 * Splits, by the first two bytes of SHA-256(prompt): the <b>evaluation</b> split when the first byte is 128 or more;
 * else the <b>tuning</b> split, in two parts: <b>onboarding</b> (second byte below 128), where the services learn the
 * cheap model by reviews, and <b>selection</b> (the rest), where the settings are measured and chosen. A setting is
 * fixed before the evaluation split is run; nothing learned or chosen ever sees it.
 */
final class ReplayDataset {

    /** One model's recorded response with the scorer's truth ({@code correct}) and an optional comparison label. */
    record Recorded(String response, boolean correct, Optional<Boolean> comparisonLabel) {
    }

    enum Split { ONBOARDING, SELECTION, EVALUATION }

    /** One prompt as the scorer sees it. */
    record Question(String id, String dataset, String prompt, Map<String, Recorded> models, Split split) {

        Recorded of(String model) {
            Recorded r = models.get(model);
            if (r == null) {
                throw new IllegalStateException("prompt " + id + " has no response of " + model);
            }
            return r;
        }

        /**
         * The model whose recorded response is this text (as the system released it), if any; when several models
         * recorded the same text (same text, same score), the one the system names.
         */
        Optional<String> modelOf(String released, String named) {
            String text = released.strip();
            List<String> matching = models.entrySet().stream()
                    .filter(e -> e.getValue().response().strip().equals(text)).map(Map.Entry::getKey).toList();
            return matching.contains(named) ? Optional.of(named) : matching.stream().findFirst();
        }
    }

    final Path file;
    final List<Question> onboarding = new ArrayList<>();
    final List<Question> selection = new ArrayList<>();
    final List<Question> evaluation = new ArrayList<>();

    private ReplayDataset(Path file, List<Question> all) {
        this.file = file;
        for (Question q : all) {
            switch (q.split()) {
                case ONBOARDING -> onboarding.add(q);
                case SELECTION -> selection.add(q);
                case EVALUATION -> evaluation.add(q);
            }
        }
    }

    /** Reads a JSONL replay file, keeping only the prompts every one of {@code models} has a response to. */
    static ReplayDataset load(Path file, List<String> models) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Question> all = new ArrayList<>();
        int line = 0;
        for (String text : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            line++;
            if (text.isBlank()) {
                continue;
            }
            JsonNode node = json.readTree(text);
            Map<String, Recorded> recorded = new LinkedHashMap<>();
            var fields = node.path("models").fields();
            while (fields.hasNext()) {
                var m = fields.next();
                JsonNode r = m.getValue();
                if (!r.path("correct").isBoolean()) {
                    throw new IOException(file + ":" + line + ": model '" + m.getKey() + "' has no boolean "
                            + "\"correct\", which the scorer needs");
                }
                JsonNode label = r.path("routellm_correct");
                recorded.put(m.getKey(), new Recorded(r.path("response").asText(), r.path("correct").asBoolean(),
                        label.isBoolean() ? Optional.of(label.asBoolean()) : Optional.empty()));
            }
            if (!recorded.keySet().containsAll(models)) {
                continue;
            }
            String prompt = node.path("prompt").asText();
            all.add(new Question(node.path("id").asText(String.valueOf(line)), node.path("dataset").asText(""),
                    prompt, recorded, split(prompt)));
        }
        return new ReplayDataset(file, all);
    }

    static Split split(String prompt) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(prompt.getBytes(StandardCharsets.UTF_8));
            if ((h[0] & 0xff) >= 128) {
                return Split.EVALUATION;
            }
            return (h[1] & 0xff) < 128 ? Split.ONBOARDING : Split.SELECTION;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    int total() {
        return onboarding.size() + selection.size() + evaluation.size();
    }
}
