package dev.tandem.worker.service;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.TokenUsage;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Onboarding: runs a model on a worker type's golden set and judges every output, off the production stream. An
 * item with a reference output ({@code expected}) is judged against it by the comparison a review makes (same
 * label, same fields, same verdict, same number), at no model cost; an item without one is judged by the reviewer
 * model, as a production review would be (its tokens are reported: the one-time cost of onboarding). The result
 * goes to the audit service as onboarding evidence (bin/onboard): a discounted prior of the clearance of the
 * model's streams, never evidence for their outgoing-error certificate.
 *
 * <p>Golden sets: {@code golden/<worker-type>.jsonl} on the classpath (written by bin/gen-golden-sets.py, disjoint
 * from the demo's tasks), one item per line: {@code {"id", "inputs": {...}, "expected": {...}}}; or the caller's own
 * items.
 */
@ApplicationScoped
public class GoldenSetEvaluator {

    private static final Logger LOG = Logger.getLogger(GoldenSetEvaluator.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_ITEMS = 5000;
    private static final int WRONG_SHOWN = 20;

    private final StepWorkflow workflow;
    private final StepReviewer reviewer;
    private final WorkerTypeCatalog catalog;

    public GoldenSetEvaluator(StepWorkflow workflow, StepReviewer reviewer, WorkerTypeCatalog catalog) {
        this.workflow = workflow;
        this.reviewer = reviewer;
        this.catalog = catalog;
    }

    /** One golden item: step inputs and, when known, the reference output. */
    public record GoldenItem(String id, Map<String, String> inputs, JsonNode expected) {
    }

    /** One item the reference judged wrong. */
    public record WrongItem(String id, String reason, double confidence) {
    }

    /**
     * @param judgedByReference items judged against their reference output
     * @param judgedByReviewer items judged by the reviewer model, whose tokens are {@code reviewerUsage}
     * @param rightConfidences the raw confidence of every item judged right (for the audit's evidence, not shown)
     * @param wrongConfidences the raw confidence of every item judged wrong
     */
    public record Evaluation(String model, String workerType, String source, int items, int rejected,
                             int judgedByReference, int judgedByReviewer, String reviewer, TokenUsage reviewerUsage,
                             double meanConfidence, List<WrongItem> wrong,
                             @JsonIgnore List<Double> rightConfidences, @JsonIgnore List<Double> wrongConfidences) {
    }

    /** The bundled golden set of a worker type; empty when there is none. */
    public List<GoldenItem> bundled(String workerType) {
        var in = Thread.currentThread().getContextClassLoader().getResourceAsStream("golden/" + workerType + ".jsonl");
        if (in == null) {
            return List.of();
        }
        var items = new ArrayList<GoldenItem>();
        try (var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) {
                    items.add(parse(JSON.readTree(line)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("golden set of " + workerType + " is unreadable", e);
        }
        return items;
    }

    public static GoldenItem parse(JsonNode node) {
        var inputs = new LinkedHashMap<String, String>();
        node.path("inputs").properties().forEach(e -> inputs.put(e.getKey(), e.getValue().isTextual()
                ? e.getValue().asText() : e.getValue().toString()));
        var expected = node.get("expected");
        return new GoldenItem(node.path("id").asText(""), inputs,
                expected == null || expected.isNull() ? null : expected);
    }

    /**
     * Runs and judges every item.
     *
     * @param reviewerModel the model that judges items without a reference (the oracle); may be empty when every
     *                      item has one
     */
    public Evaluation evaluate(String model, String workerType, Optional<String> reviewerModel, List<GoldenItem> items,
                               String source) {
        var violations = new ArrayList<FieldViolation>();
        if (items.isEmpty()) {
            violations.add(new FieldViolation("items", "no golden set for worker type '" + workerType
                    + "': none is bundled; send items"));
        }
        if (items.size() > MAX_ITEMS) {
            violations.add(new FieldViolation("items", "at most " + MAX_ITEMS + " items, got " + items.size()));
        }
        boolean needsReviewer = items.stream().anyMatch(i -> i.expected() == null)
                || "summarize".equals(kindOf(workerType));
        if (needsReviewer && reviewerModel.filter(r -> !r.isBlank()).isEmpty()) {
            violations.add(new FieldViolation("reviewer", "items without a reference output (and every summary) "
                    + "are judged by a reviewer model: name one"));
        }
        if (!violations.isEmpty()) {
            throw StepException.invalid(violations);
        }
        // every item and both models checked before the first model call: an item refused half way through a paid
        // set (or a reviewer not configured) used to stop the evaluation after the calls before it
        var ready = new ArrayList<StepWorkflow.Prepared>();
        for (int i = 0; i < items.size(); i++) {
            var item = items.get(i);
            try {
                ready.add(workflow.preflight(workerType, item.inputs(), model, 1));
            } catch (StepException e) {
                throw inRequest(e, i, "model");
            }
            if (needsReviewer && (item.expected() == null || "summarize".equals(kindOf(workerType)))) {
                try {
                    workflow.preflight(workerType, item.inputs(), reviewerModel.orElseThrow(), 1);
                } catch (StepException e) {
                    throw inRequest(e, i, "reviewer");
                }
            }
        }
        int rejected = 0, byReference = 0, byReviewer = 0;
        double confidence = 0;
        var usage = TokenUsage.NONE;
        var wrong = new ArrayList<WrongItem>();
        var rightConfidences = new ArrayList<Double>();
        var wrongConfidences = new ArrayList<Double>();
        for (int i = 0; i < items.size(); i++) {
            var item = items.get(i);
            var prepared = ready.get(i);
            var run = workflow.run(prepared, item.inputs(), "", new ArrayList<>(), CallDeadline.none(), "");
            confidence += run.confidence();
            var kind = prepared.type().definition().kind();
            StepReviewer.Judgement judgement;
            if (item.expected() != null && !WorkerType.SUMMARIZE.equals(kind)) {
                judgement = againstReference(prepared.type().definition(), item.inputs(), run.output(),
                        item.expected());
                byReference++;
            } else {
                var review = reviewer.review(new ReviewCommand("", "golden-" + item.id(), workerType, item.inputs(),
                        run.output(), model, reviewerModel.orElseThrow(), "", CallDeadline.none(), ""));
                judgement = new StepReviewer.Judgement(review.accepted(), review.reason());
                usage = usage.plus(review.usage());
                byReviewer++;
            }
            (judgement.accepted() ? rightConfidences : wrongConfidences).add(run.confidence());
            if (!judgement.accepted()) {
                rejected++;
                if (wrong.size() < WRONG_SHOWN) {
                    wrong.add(new WrongItem(item.id(), judgement.reason(), run.confidence()));
                }
            }
        }
        LOG.infof("Onboarding of %s on %s: %d of %d golden items wrong (%d by reference, %d by %s)", model,
                workerType, rejected, items.size(), byReference, byReviewer, reviewerModel.orElse("no reviewer"));
        return new Evaluation(model, workerType, source, items.size(), rejected, byReference, byReviewer,
                byReviewer > 0 ? reviewerModel.orElse("") : "", usage, confidence / items.size(), List.copyOf(wrong),
                List.copyOf(rightConfidences), List.copyOf(wrongConfidences));
    }

    /**
     * A pre-flight refusal in the terms of the onboarding request: its model as {@code model} or {@code reviewer}
     * (an unknown one is the caller's input, 400, not a missing resource), an input as {@code items[i].inputs.x}.
     */
    private static StepException inRequest(StepException e, int item, String modelField) {
        if (e.reason() == StepException.Reason.NOT_FOUND) {
            return StepException.invalid(e.violations().stream()
                    .map(v -> new FieldViolation(modelField, v.description())).toList());
        }
        if (e.reason() != StepException.Reason.INVALID_ARGUMENT) {
            return new StepException(e.reason(), modelField + ": " + e.getMessage(), e.violations());
        }
        return StepException.invalid(e.violations().stream().map(v -> new FieldViolation(switch (v.field()) {
            case "model_id" -> modelField;
            case "worker_type" -> "worker_type";
            default -> "items[" + item + "]." + v.field();
        }, v.description())).toList());
    }

    private String kindOf(String workerType) {
        return catalog.find(workerType).map(t -> t.definition().kind()).orElse("");
    }

    static StepReviewer.Judgement againstReference(WorkerType type, Map<String, String> inputs, String output,
                                                   JsonNode expected) {
        JsonNode candidate;
        try {
            candidate = JSON.readTree(output);
        } catch (IOException e) {
            return new StepReviewer.Judgement(false, "The output is not JSON.");
        }
        return switch (type.kind()) {
            case WorkerType.CLASSIFY -> StepReviewer.classify(candidate, expected, 1.0);
            case WorkerType.EXTRACT -> StepReviewer.extract(candidate, expected);
            case WorkerType.VALIDATE -> StepReviewer.validate(candidate, expected);
            case WorkerType.SOLVE -> StepReviewer.solve(type, candidate, expected);
            case WorkerType.ANSWER -> StepReviewer.answer(type, inputs, candidate, expected);
            default -> throw new IllegalStateException("no reference judge for kind " + type.kind());
        };
    }
}
