package dev.tandem.worker.service;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Which labels a classify step chooses from: an ad-hoc {@code labels} list, else a taxonomy of the type. */
public final class LabelSets {

    /**
     * Most ad-hoc labels a step may give: far above the shipped taxonomies (five labels) and what nearest-prototype
     * over label names tells apart. Each is embedded (or listed in an LLM's schema) on every call, and the label
     * checks compare lists: 30,000 labels in 200,000 characters held a call for minutes.
     */
    public static final int MAX_AD_HOC_LABELS = 100;

    private LabelSets() {
    }

    /** The ad-hoc labels of a step (comma separated), empty when the step uses a taxonomy. */
    public static List<String> adHocLabels(Map<String, String> inputs) {
        var raw = inputs.get("labels");
        if (raw == null || raw.isBlank()) {
            return List.of();
        }
        return Arrays.stream(raw.split(",")).map(String::strip).filter(s -> !s.isEmpty()).distinct().toList();
    }

    /** The taxonomy a step uses: the {@code taxonomy} input or the type's default. */
    public static String taxonomyName(WorkerType type, Map<String, String> inputs) {
        var requested = inputs.get("taxonomy");
        return requested == null || requested.isBlank() ? type.classify().defaultTaxonomy() : requested.strip();
    }

    /** The label names the step may answer with. */
    public static List<String> labelNames(WorkerType type, Map<String, String> inputs) {
        var adHoc = adHocLabels(inputs);
        if (!adHoc.isEmpty()) {
            return adHoc;
        }
        var taxonomy = type.classify().taxonomies().get(taxonomyName(type, inputs));
        return taxonomy == null ? List.of() : List.copyOf(taxonomy.labels().keySet());
    }
}
