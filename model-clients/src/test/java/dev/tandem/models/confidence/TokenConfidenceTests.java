package dev.tandem.models.confidence;

import dev.tandem.models.chat.TokenLogprob;
import dev.tandem.models.chat.TokenLogprob.Alternative;
import dev.tandem.models.confidence.TokenConfidence.Span;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TokenConfidenceTests {

    private static TokenLogprob token(String text, double p, Alternative... top) {
        return new TokenLogprob(text, Math.log(p), List.of(top));
    }

    private static Alternative alt(String text, double p) {
        return new Alternative(text, Math.log(p));
    }

    /** A generated text of tokens with the given probabilities. */
    private record Generation(String text, List<TokenLogprob> tokens) {
        static Generation of(double... probabilities) {
            var sb = new StringBuilder();
            var tokens = new ArrayList<TokenLogprob>();
            for (int i = 0; i < probabilities.length; i++) {
                var t = "t" + i + " ";
                sb.append(t);
                tokens.add(token(t, probabilities[i]));
            }
            return new Generation(sb.toString(), tokens);
        }

        double quantile() {
            return TokenConfidence.spanQuantile(text, tokens, List.of(new Span(0, text.length())), 0.1).orElseThrow();
        }

        double sequenceProbability() {
            return tokens.stream().mapToDouble(TokenLogprob::probability).reduce(1, (a, b) -> a * b);
        }
    }

    @Test
    void aLongConfidentAnswerOutranksAShortDoubtfulOneDespiteItsLength() {
        var longConfident = Generation.of(repeat(0.97, 200));
        var shortDoubtful = Generation.of(0.99, 0.55, 0.99, 0.98);

        assertThat(longConfident.quantile()).isGreaterThan(shortDoubtful.quantile());
        // the sequence probability would rank them the other way round: it punishes length
        assertThat(longConfident.sequenceProbability()).isLessThan(shortDoubtful.sequenceProbability());
    }

    @Test
    void aLongAnswerWithAFewDoubtfulTokensIsNotRescuedByManyEasyOnes() {
        double[] probabilities = repeat(0.999, 300);
        for (int i = 0; i < 40; i++) {
            probabilities[i * 7] = 0.4;
        }
        var longDoubtful = Generation.of(probabilities);
        var shortConfident = Generation.of(0.90, 0.92, 0.91);

        assertThat(longDoubtful.quantile()).isLessThan(shortConfident.quantile());
        double mean = longDoubtful.tokens().stream().mapToDouble(TokenLogprob::probability).average().orElseThrow();
        // the mean would call the long answer the surer one
        assertThat(mean).isGreaterThan(shortConfident.quantile());
    }

    @Test
    void onlyTokensInsideTheAnswerSpansCount() {
        var text = "{\"answer\":42}";
        var tokens = List.of(token("{\"", 0.2), token("answer", 0.2), token("\":", 0.2), token("42", 0.9), token("}", 0.2));
        var q = TokenConfidence.spanQuantile(text, tokens, List.of(new Span(10, 12)), 0.1);
        assertThat(q).hasValueSatisfying(v -> assertThat(v).isCloseTo(0.9, within(1e-9)));
    }

    @Test
    void labelProbabilityIsRenormalisedOverTheObservedMass() {
        var text = "{\"label\":\"billing\"}";
        var tokens = List.of(token("{\"", 1), token("label", 1), token("\":\"", 1),
                token("billing", 0.6, alt("billing", 0.6), alt("shipping", 0.2), alt("Hello", 0.1)),
                token("\"}", 1));
        var distribution = TokenConfidence.labelDistribution(text, tokens, 10, "billing",
                List.of("billing", "shipping", "account")).orElseThrow();

        // 0.9 observed, of which "Hello" (0.1) is no label: it stays outside the labels' share
        assertThat(distribution.get("billing")).isCloseTo(0.6 / 0.9, within(1e-9));
        assertThat(distribution.get("shipping")).isCloseTo(0.2 / 0.9, within(1e-9));
        assertThat(distribution.get("account")).isZero();
    }

    @Test
    void anUnsureLabelWhoseAlternativesAreNotLabelsKeepsALowProbability() {
        // The model put 0.30 on the label and most of the rest on words that are no label at all.
        var text = "{\"label\":\"billing\"}";
        var tokens = List.of(token("{\"label\":\"", 1),
                token("billing", 0.30, alt("billing", 0.30), alt("I", 0.40), alt("Sorry", 0.20), alt("unknown", 0.05)),
                token("\"}", 1));
        var distribution = TokenConfidence.labelDistribution(text, tokens, 10, "billing",
                List.of("billing", "shipping", "account")).orElseThrow();

        assertThat(distribution.get("billing")).isCloseTo(0.30 / 0.95, within(1e-9)).isLessThan(0.35);
        assertThat(distribution.get("shipping")).isZero();
        assertThat(distribution.get("account")).isZero();
    }

    @Test
    void aLabelWithoutObservedAlternativesKeepsItsOwnProbability() {
        // top_logprobs of 1: only the chosen token is seen, so there is nothing to renormalise over
        var text = "{\"label\":\"billing\"}";
        var tokens = List.of(token("{\"label\":\"", 1), token("billing", 0.30, alt("billing", 0.30)), token("\"}", 1));
        var distribution = TokenConfidence.labelDistribution(text, tokens, 10, "billing",
                List.of("billing", "shipping")).orElseThrow();

        assertThat(distribution.get("billing")).isCloseTo(0.30, within(1e-9));
    }

    @Test
    void aMultiTokenLabelKeepsTheShareItsContinuationConfirms() {
        // "tech" + "nical" for "technical"; "tech" is also the start of "technology"
        var text = "{\"label\":\"technical\"}";
        var tokens = List.of(token("{\"label\":\"", 1),
                token("tech", 0.8, alt("tech", 0.8), alt("billing", 0.2)), token("nical", 0.75), token("\"}", 1));
        var distribution = TokenConfidence.labelDistribution(text, tokens, 10, "technical",
                List.of("technical", "technology", "billing")).orElseThrow();

        assertThat(distribution.get("technical")).isCloseTo(0.6, within(1e-9));
        assertThat(distribution.get("technology")).isCloseTo(0.2, within(1e-9));
        assertThat(distribution.get("billing")).isCloseTo(0.2, within(1e-9));
    }

    private static double[] repeat(double p, int n) {
        var out = new double[n];
        java.util.Arrays.fill(out, p);
        return out;
    }
}
