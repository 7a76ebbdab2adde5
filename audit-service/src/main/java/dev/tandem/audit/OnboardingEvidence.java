package dev.tandem.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a worker backend did on a worker type's golden set (or labelled exemplars) when it was onboarded: off the
 * production stream and free of production reviews.
 *
 * @param source where the items came from, e.g. {@code golden-set} or {@code exemplars}
 * @param items items judged against their references
 * @param rejected items whose output the reference judged wrong
 * @param detail free text: the set's name and version, the judge, what it cost
 * @param rightConfidences the worker's raw confidence on each item judged right (empty when not recorded)
 * @param wrongConfidences the worker's raw confidence on each item judged wrong (empty when not recorded)
 */
public record OnboardingEvidence(String workerBackend, String workerType, String source, long items, long rejected,
        String detail, Instant recordedAt, List<Double> rightConfidences, List<Double> wrongConfidences) {

    public OnboardingEvidence {
        // copies that keep a null element, which the admin API's validation names
        rightConfidences = rightConfidences == null ? List.of()
                : Collections.unmodifiableList(new ArrayList<>(rightConfidences));
        wrongConfidences = wrongConfidences == null ? List.of()
                : Collections.unmodifiableList(new ArrayList<>(wrongConfidences));
    }

    /** Evidence without the items' confidences. */
    public OnboardingEvidence(String workerBackend, String workerType, String source, long items, long rejected,
            String detail, Instant recordedAt) {
        this(workerBackend, workerType, source, items, rejected, detail, recordedAt, List.of(), List.of());
    }

    public double errorRate() {
        return (double) rejected / items;
    }

    /** True when every item's confidence is recorded, so a confidence threshold can be priced on them. */
    public boolean scored() {
        return items > 0 && rightConfidences.size() + wrongConfidences.size() == items
                && wrongConfidences.size() == rejected;
    }
}
