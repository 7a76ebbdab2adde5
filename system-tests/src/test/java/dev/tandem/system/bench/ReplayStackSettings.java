package dev.tandem.system.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The worker and router settings of the benchmarks' GSM8K replay stack: a worker model that answers with one
 * recorded column, priced as a small model ($0.60 / $0.60 per 1M tokens), and GPT-4's recorded answers as the oracle
 * tier ($10 / $30), both served by one local pool. Written once for the platform and restart benchmarks.
 */
final class ReplayStackSettings {

    private ReplayStackSettings() {
    }

    /** The shared GSM8K data ({@code TANDEM_WORKER_REPLAY_DIR}); the benchmark is skipped when it is absent. */
    static Path data() {
        var data = Path.of(System.getenv().getOrDefault("TANDEM_WORKER_REPLAY_DIR", "../../shared/data/routellm-gsm8k"));
        Assumptions.assumeTrue(Files.isRegularFile(data.resolve("gsm8k_responses.csv")),
                "the replay data is not at " + data.toAbsolutePath() + " (../shared beside the repository)");
        return data;
    }

    /** The questions only: a benchmark never needs to know which answers are right. */
    static List<String> questions(Path data) throws IOException {
        var json = new ObjectMapper();
        var questions = new ArrayList<String>();
        for (var line : Files.readAllLines(data.resolve("test.jsonl"))) {
            if (!line.isBlank()) {
                questions.add(json.readTree(line).get("question").asText());
            }
        }
        return questions;
    }

    /** The worker's settings: {@code workerModel} replays {@code responseColumn} of the shared GSM8K data. */
    static Map<String, String> worker(Map<String, String> base, Path data, String workerModel, String responseColumn) {
        var w = new LinkedHashMap<>(base);
        w.put("tandem.worker.replay-dir", data.toString());
        var m = "tandem.catalog.models.\"" + workerModel + "\".";
        w.put(m + "provider", "replay");
        w.put(m + "replay.dataset", data.resolve("gsm8k_responses.csv").toString());
        w.put(m + "replay.response-column", responseColumn);
        w.put(m + "capabilities", "generation");
        return w;
    }

    /** The router's settings: the one pool at {@code workerEndpoint} and the two models' tiers and prices. */
    static Map<String, String> router(Map<String, String> base, String workerEndpoint, String workerModel,
                                      String oracleModel) {
        var r = new LinkedHashMap<>(base);
        r.put("tandem.router.pools.local.endpoint", workerEndpoint);
        r.put("tandem.router.pools.local.models", "embedded-minilm,embedded-bge-oracle," + workerModel + ","
                + oracleModel);
        r.put("tandem.router.pools.local.capacity", "512");
        var w = "tandem.catalog.models.\"" + workerModel + "\".";
        r.put(w + "tier", "SMALL");
        r.put(w + "input-usd-per-mtok", "0.60");
        r.put(w + "output-usd-per-mtok", "0.60");
        r.put(w + "capabilities", "generation");
        var o = "tandem.catalog.models.\"" + oracleModel + "\".";
        r.put(o + "tier", "ORACLE");
        r.put(o + "input-usd-per-mtok", "10.00");
        r.put(o + "output-usd-per-mtok", "30.00");
        r.put(o + "capabilities", "generation");
        r.put("tandem.router.oracle-model", oracleModel);
        return r;
    }
}
