package dev.tandem.audit;

import java.time.Instant;

/**
 * What a worker backend did on a worker type's golden set (or labelled exemplars) when it was onboarded: off the
 * production stream and free of production reviews.
 *
 * @param source where the items came from, e.g. {@code golden-set} or {@code exemplars}
 * @param items items judged against their references
 * @param rejected items whose output the reference judged wrong
 * @param detail free text: the set's name and version, the judge, what it cost
 */
public record OnboardingEvidence(String workerBackend, String workerType, String source, long items, long rejected,
        String detail, Instant recordedAt) {

    public double errorRate() {
        return (double) rejected / items;
    }
}
