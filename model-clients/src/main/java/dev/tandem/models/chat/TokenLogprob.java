package dev.tandem.models.chat;

import java.util.List;

/**
 * The log probability of one generated token and the most likely alternatives at its position.
 *
 * @param token   the token text as the provider reports it
 * @param logprob natural log of its probability
 * @param top     the most likely tokens at this position (may include the token itself), best first
 */
public record TokenLogprob(String token, double logprob, List<Alternative> top) {

    public TokenLogprob {
        top = top == null ? List.of() : List.copyOf(top);
    }

    /** The probability of the token, {@code exp(logprob)}. */
    public double probability() {
        return Math.exp(logprob);
    }

    /** One alternative token at a position. */
    public record Alternative(String token, double logprob) {
    }
}
