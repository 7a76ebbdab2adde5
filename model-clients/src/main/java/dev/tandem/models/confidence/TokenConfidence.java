package dev.tandem.models.confidence;

import dev.tandem.models.chat.TokenLogprob;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.descriptive.rank.Percentile.EstimationType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Confidence from token log probabilities, over character spans of the generated text.
 * <ul>
 *   <li>{@link #spanQuantile}: a low quantile of the per-token probabilities over the answer span. Unlike the
 *       sequence probability (product) or the summed log probability it does not shrink with length, and unlike
 *       the mean it is not diluted by many easy tokens: one or two doubtful tokens in the answer pull it down.</li>
 *   <li>{@link #labelDistribution}: the probability of each declared label at the position where the label value
 *       starts, from {@code top_logprobs}, renormalised over the observed mass: the labels and the alternatives
 *       that are not labels, so mass on other tokens lowers the label's probability.</li>
 * </ul>
 * Token offsets are recovered by concatenating the token strings; when they do not add up to the text (byte-level
 * tokens split inside a character), spans fall back to every token.
 */
public final class TokenConfidence {

    private TokenConfidence() {
    }

    /** A character range [start, end) of the generated text. */
    public record Span(int start, int end) {
        public Span {
            if (start < 0 || end < start) {
                throw new IllegalArgumentException("bad span [" + start + ", " + end + ")");
            }
        }
    }

    /** A token with its character range in the text. */
    record Placed(TokenLogprob token, int start, int end) {
    }

    /**
     * The {@code q}-quantile (linear interpolation, R-7) of the probabilities of the tokens overlapping any of the
     * spans; empty when no token overlaps them.
     */
    public static Optional<Double> spanQuantile(String text, List<TokenLogprob> tokens, List<Span> spans, double q) {
        if (!(q > 0 && q <= 1)) {
            throw new IllegalArgumentException("quantile must be in (0, 1], was " + q);
        }
        var placed = place(text, tokens);
        boolean aligned = aligned(placed, tokens);
        var probabilities = new ArrayList<Double>();
        for (var p : placed) {
            if (!aligned || spans.stream().anyMatch(s -> p.start() < s.end() && p.end() > s.start())) {
                probabilities.add(p.token().probability());
            }
        }
        if (probabilities.isEmpty()) {
            return Optional.empty();
        }
        double[] values = probabilities.stream().mapToDouble(Double::doubleValue).toArray();
        if (values.length == 1) {
            return Optional.of(values[0]);
        }
        return Optional.of(new Percentile().withEstimationType(EstimationType.R_7).evaluate(values, q * 100));
    }

    /**
     * The probability of each label at the token where the label value begins ({@code valueStart} is the offset of
     * its first character). An alternative token counts for a label when, after the text the chosen token has
     * before the value (an opening quote, a space), it is a prefix of the label or the label is a prefix of it
     * (case-insensitive); a token shared by several labels splits its mass between them, except that the chosen
     * label keeps the share its remaining tokens confirm. Renormalised over the observed mass, labels and tokens that
     * are not labels alike: a label at 0.30 whose alternatives are other words stays near 0.30 (renormalising over
     * the labels alone would report 1.00 for an unsure model). Tokens that can be neither decided (a bare prefix,
     * another tokenisation of the text before the value) are left out of that mass. When the response shows no
     * alternative besides the chosen token, there is nothing to renormalise over: the label keeps its own
     * probability. The values need not sum to 1; the rest is mass on answers that are not a label. Empty when the
     * position is not found or no alternative matches a label.
     */
    public static Optional<Map<String, Double>> labelDistribution(String text, List<TokenLogprob> tokens,
                                                                  int valueStart, String chosenLabel,
                                                                  List<String> labels) {
        var placed = place(text, tokens);
        if (!aligned(placed, tokens)) {
            return Optional.empty();
        }
        int index = -1;
        for (int i = 0; i < placed.size(); i++) {
            if (placed.get(i).start() <= valueStart && placed.get(i).end() > valueStart) {
                index = i;
                break;
            }
        }
        if (index < 0) {
            return Optional.empty();
        }
        var first = placed.get(index);
        var prefix = text.substring(first.start(), valueStart);
        // The chosen label's continuation: the probability of the tokens after the first one inside the value.
        double continuation = 1;
        int valueEnd = valueStart + chosenLabel.length();
        for (int i = index + 1; i < placed.size() && placed.get(i).start() < valueEnd; i++) {
            continuation *= placed.get(i).token().probability();
        }
        var alternatives = new LinkedHashMap<String, Double>();
        for (var a : first.token().top()) {
            alternatives.merge(a.token(), Math.exp(a.logprob()), Math::max);
        }
        alternatives.merge(first.token().token(), first.token().probability(), Math::max);

        var mass = new LinkedHashMap<String, Double>();
        labels.forEach(l -> mass.put(l, 0.0));
        double notLabels = 0; // observed mass on tokens that start no label: the model considered another answer
        for (var entry : alternatives.entrySet()) {
            var token = entry.getKey();
            if (!token.startsWith(prefix)) {
                continue;
            }
            var rest = token.substring(prefix.length()).toLowerCase(Locale.ROOT);
            if (rest.isBlank()) {
                continue;
            }
            var matching = labels.stream().filter(l -> matches(l.toLowerCase(Locale.ROOT), rest)).toList();
            if (matching.isEmpty()) {
                notLabels += entry.getValue();
                continue;
            }
            double p = entry.getValue();
            if (matching.contains(chosenLabel) && matching.size() > 1) {
                mass.merge(chosenLabel, p * continuation, Double::sum);
                double others = p * (1 - continuation) / (matching.size() - 1);
                matching.stream().filter(l -> !l.equals(chosenLabel)).forEach(l -> mass.merge(l, others, Double::sum));
            } else {
                matching.forEach(l -> mass.merge(l, p / matching.size(), Double::sum));
            }
        }
        double labelMass = mass.values().stream().mapToDouble(Double::doubleValue).sum();
        if (labelMass <= 0) {
            return Optional.empty();
        }
        // Only the chosen token observed (top_logprobs of 1, or none): its own probability, not 1.
        boolean alternativesSeen = alternatives.keySet().stream().anyMatch(t -> !t.equals(first.token().token()));
        double observed = alternativesSeen ? labelMass + notLabels : 1;
        var out = new LinkedHashMap<String, Double>();
        mass.forEach((l, m) -> out.put(l, Math.min(1, m / observed)));
        return Optional.of(out);
    }

    private static boolean matches(String label, String tokenRest) {
        // the token may run past the label into the closing quote: 'billing"' for 'billing'
        var rest = tokenRest.replaceAll("[\"'\\s,}\\]]+$", "");
        return !rest.isEmpty() && (label.startsWith(rest) || rest.equals(label));
    }

    /** Tokens with their offsets, as far as their concatenation follows the text. */
    static List<Placed> place(String text, List<TokenLogprob> tokens) {
        var out = new ArrayList<Placed>(tokens.size());
        int offset = 0;
        for (var t : tokens) {
            var s = t.token();
            if (!text.startsWith(s, offset)) {
                break;
            }
            out.add(new Placed(t, offset, offset + s.length()));
            offset += s.length();
        }
        if (out.size() != tokens.size()) {
            // Misaligned (byte tokens): keep every token with an unknown position so callers can fall back.
            out.clear();
            for (var t : tokens) {
                out.add(new Placed(t, 0, 0));
            }
        }
        return out;
    }

    private static boolean aligned(List<Placed> placed, List<TokenLogprob> tokens) {
        return !placed.isEmpty() && placed.size() == tokens.size() && (placed.getLast().end() > 0 || tokens.isEmpty());
    }
}
