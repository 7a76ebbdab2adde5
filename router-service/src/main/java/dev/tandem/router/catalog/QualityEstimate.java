package dev.tandem.router.catalog;

import java.util.Locale;

/**
 * The quality selection uses for a (worker type, model): a value in [0, 1], how many observations are behind it,
 * and where it comes from.
 */
public record QualityEstimate(double value, long samples, Source source) {

    /** Where a quality figure comes from. */
    public enum Source {
        /** The model's configured prior: too few audit verdicts yet. */
        PRIOR,
        /** The one-sided Wilson lower bound of the audit accept rate. */
        MEASURED,
        /** Predicted for this step's input from the nearest reviewed outcomes. */
        PREDICTED,
        /** The audit service suspended the stream: avoid it. */
        SUSPENDED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static QualityEstimate prior(double value) {
        return new QualityEstimate(value, 0, Source.PRIOR);
    }

    public boolean measured() {
        return source != Source.PRIOR;
    }
}
