package dev.tandem.system.bench;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * The seeded order of a production stream: questions sorted by SHA-256(seed, prompt). The order depends on the seed
 * and the prompts only, not on the file's order, and a part of the data (a split) keeps the relative order it has in
 * the whole stream, so the held-out stream is the whole stream with the tuning questions left out.
 */
final class StreamOrder {

    private StreamOrder() {
    }

    static List<ReplayDataset.Question> of(List<ReplayDataset.Question> questions, long seed) {
        List<ReplayDataset.Question> out = new ArrayList<>(questions);
        out.sort(Comparator.comparing((ReplayDataset.Question q) -> key(seed, q.prompt()))
                .thenComparing(ReplayDataset.Question::id));
        return out;
    }

    static String key(long seed, String prompt) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((seed + "\n").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(prompt.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
