package dev.tandem.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.models.Provider;
import dev.tandem.models.Vectors;
import dev.tandem.models.chat.TokenUsage;
import dev.tandem.worker.config.TandemConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;

/**
 * ReviewStep: the reviewing model redoes the step and its answer is compared with the candidate, per kind:
 * classify - same label; extract - same values where both found a field, and nothing the reviewer found is
 * missing from the candidate; summarize - candidate sentences come from the source and cover the document about
 * as well as the reviewer's own; validate - same verdict; solve - the reviewer solves independently and the
 * final answers agree numerically. The reviewer's output is the escalation answer.
 */
@ApplicationScoped
public class StepReviewer {

    private static final Logger LOG = Logger.getLogger(StepReviewer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final StepWorkflow workflow;
    private final TandemConfig config;
    private final MeterRegistry registry;

    public StepReviewer(StepWorkflow workflow, TandemConfig config, MeterRegistry registry) {
        this.workflow = workflow;
        this.config = config;
        this.registry = registry;
    }

    /** Judges a candidate output with the review model, within the command's deadline. */
    public ReviewOutcome review(ReviewCommand command) {
        long start = System.nanoTime();
        if (command.candidateOutput().isBlank()) {
            throw StepException.invalid(List.of(new FieldViolation("candidate_output", "candidate_output is required")));
        }
        var alsoRead = new LinkedHashMap<String, String>();
        alsoRead.put("instructions", command.instructions());
        alsoRead.put("candidate_output", command.candidateOutput());
        var prepared = workflow.preflight(command.workerType(), command.inputs(), command.modelId(), 1, alsoRead);
        var run = workflow.run(prepared, command.inputs(), command.instructions(), new ArrayList<>(),
                command.deadline(), command.callKey());
        var type = prepared.type().definition();
        var reviewer = run.answer().output();

        Judgement judgement;
        JsonNode candidate;
        try {
            candidate = JSON.readTree(command.candidateOutput());
        } catch (JsonProcessingException e) {
            candidate = null;
        }
        if (candidate == null || !candidate.isObject()) {
            judgement = new Judgement(false, "The candidate output is not a JSON object.");
        } else {
            judgement = switch (type.kind()) {
                case WorkerType.CLASSIFY -> classify(candidate, reviewer, run.answer().rawConfidence());
                case WorkerType.EXTRACT -> extract(candidate, reviewer);
                case WorkerType.SUMMARIZE -> {
                    // the coverage comparison embeds both summaries again: a stage of its own
                    EmbeddedStepModel.check(command.deadline(), prepared.model());
                    yield summarize(command, prepared, candidate, run.answer().rawConfidence());
                }
                case WorkerType.VALIDATE -> validate(candidate, reviewer);
                case WorkerType.SOLVE -> solve(type, candidate, reviewer);
                case WorkerType.ANSWER -> answer(type, command.inputs(), candidate, reviewer);
                default -> throw new IllegalStateException("unknown kind " + type.kind());
            };
        }
        // only the summary comparison puts the candidate through the model (it embeds the candidate's sentences);
        // the other kinds compare the reviewer's own answer with the candidate's as strings, at no model cost
        var encoderTokens = readsCandidate(prepared, type)
                ? EmbeddedEncoders.get(prepared.model().encoder()).countTokens(command.candidateOutput()) : 0;
        var usage = run.answer().usage().plus(new TokenUsage(encoderTokens, 0, 0, 0, false));
        double latency = StepWorkflow.millisSince(start);
        Timer.builder("tandem.worker.reviews").description("Reviews of candidate outputs")
                .tags("worker_type", type.name(), "model", prepared.model().id(),
                        "verdict", judgement.accepted() ? "accepted" : "rejected")
                .register(registry).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        LOG.infof("Review of step %s (%s) by %s of %s's output: %s: %s", command.stepId(), type.name(),
                prepared.model().id(), command.candidateModelId(), judgement.accepted() ? "ACCEPTED" : "REJECTED",
                judgement.reason());
        return new ReviewOutcome(judgement.accepted(), judgement.reason(), run.output(), run.confidence(),
                usage, latency, prepared.model().id());
    }

    /** Whether judging the candidate runs it through the reviewing model (and so is billed as its input). */
    static boolean readsCandidate(StepWorkflow.Prepared prepared, WorkerType type) {
        return prepared.model().provider() == Provider.EMBEDDED && type.kind().equals(WorkerType.SUMMARIZE);
    }

    record Judgement(boolean accepted, String reason) {
    }

    static Judgement classify(JsonNode candidate, JsonNode reviewer, double reviewerProbability) {
        var theirs = candidate.path("label").asText("");
        var ours = reviewer.path("label").asText();
        return theirs.equals(ours)
                ? new Judgement(true, String.format("The reviewer also labels it '%s' (p=%.2f).", ours, reviewerProbability))
                : new Judgement(false, String.format("The reviewer labels it '%s' (p=%.2f), not '%s'.", ours,
                reviewerProbability, theirs));
    }

    static Judgement extract(JsonNode candidate, JsonNode reviewer) {
        var theirs = candidate.path("fields");
        int agreed = 0;
        for (var field : reviewer.path("fields").properties()) {
            var name = field.getKey();
            var ours = field.getValue();
            var their = theirs.path(name);
            boolean theyFound = their.isTextual() && !their.asText().isBlank();
            if (ours.isTextual() && !theyFound) {
                return new Judgement(false, "The candidate misses field '" + name + "', which the source gives as '"
                        + ours.asText() + "'.");
            }
            if (ours.isTextual() && !Sentences.normalise(ours.asText()).equals(Sentences.normalise(their.asText()))) {
                return new Judgement(false, "The candidate has " + name + "='" + their.asText()
                        + "' where the reviewer found '" + ours.asText() + "'.");
            }
            if (ours.isTextual()) {
                agreed++;
            }
        }
        return new Judgement(true, "The candidate agrees with the reviewer on all " + agreed + " fields found.");
    }

    Judgement summarize(ReviewCommand command, StepWorkflow.Prepared prepared, JsonNode candidate,
                        double reviewerCoverage) {
        var text = command.inputs().get("text");
        var sentences = new ArrayList<String>();
        candidate.path("sentences").forEach(s -> sentences.add(s.asText()));
        if (sentences.isEmpty()) {
            return new Judgement(false, "The candidate summary has no sentences.");
        }
        // more sentences than asked for is not the summary asked for, and would win on coverage (the whole document
        // covers it best); also bounds what the comparison embeds
        int wanted = EmbeddedSummarizer.maxSentences(prepared.type().definition().summarize(), command.inputs());
        if (sentences.size() > wanted) {
            return new Judgement(false, "The candidate summary has " + sentences.size() + " sentences, more than the "
                    + wanted + " asked for.");
        }
        var foreign = sentences.stream().filter(s -> !Sentences.occursIn(s, text)).toList();
        if (!foreign.isEmpty()) {
            return new Judgement(false, foreign.size() + " candidate sentences do not come from the source.");
        }
        if (prepared.model().provider() != Provider.EMBEDDED) {
            return new Judgement(true, "Every candidate sentence comes from the source.");
        }
        var encoder = EmbeddedEncoders.get(prepared.model().encoder());
        var document = Vectors.centroid(encoder.embedAll(Sentences.split(text)));
        double coverage = EmbeddedSummarizer.coverage(encoder.embedAll(sentences), document);
        double margin = config.worker().review().summaryCoverageMargin();
        return coverage >= reviewerCoverage - margin
                ? new Judgement(true, String.format("Candidate sentences come from the source and cover it "
                + "(%.3f vs the reviewer's %.3f).", coverage, reviewerCoverage))
                : new Judgement(false, String.format("The candidate covers the document less (%.3f) than the "
                + "reviewer's summary (%.3f) by more than %.2f.", coverage, reviewerCoverage, margin));
    }

    static Judgement validate(JsonNode candidate, JsonNode reviewer) {
        var theirs = candidate.path("valid");
        var ours = reviewer.path("valid").asBoolean();
        if (!theirs.isBoolean()) {
            return new Judgement(false, "The candidate has no boolean 'valid' verdict.");
        }
        return theirs.asBoolean() == ours
                ? new Judgement(true, "The reviewer reaches the same verdict (valid=" + ours + ").")
                : new Judgement(false, "The reviewer finds valid=" + ours + ", the candidate said " + theirs.asBoolean()
                + ".");
    }

    /** Solve: accepted iff the candidate's final number equals the reviewer's own (relative tolerance of the type). */
    static Judgement solve(WorkerType type, JsonNode candidate, JsonNode reviewer) {
        var spec = type.solve();
        var theirs = number(candidate.path(spec.answerField()));
        var ours = number(reviewer.path(spec.answerField()));
        if (ours.isEmpty()) {
            return new Judgement(false, "The reviewer reached no final answer, so the candidate cannot be confirmed.");
        }
        if (theirs.isEmpty()) {
            return new Judgement(false, "The candidate has no numeric '" + spec.answerField() + "'; the reviewer's "
                    + "answer is " + ArithmeticCheck.format(ours.getAsDouble()) + ".");
        }
        return ArithmeticCheck.agree(theirs.getAsDouble(), ours.getAsDouble(), spec.relativeTolerance())
                ? new Judgement(true, "The reviewer also gets " + ArithmeticCheck.format(ours.getAsDouble()) + ".")
                : new Judgement(false, "The reviewer gets " + ArithmeticCheck.format(ours.getAsDouble())
                + ", the candidate " + ArithmeticCheck.format(theirs.getAsDouble()) + ".");
    }

    /**
     * Answer: accepted iff the candidate's answer is the reviewer's own: the same option when the question has
     * options, else the same number or the same text after normalisation ({@link ShortAnswers#same}).
     */
    static Judgement answer(WorkerType type, Map<String, String> inputs, JsonNode candidate, JsonNode reviewer) {
        var spec = type.answer();
        var ours = reviewer.path(spec.answerField()).asText("").strip();
        var theirs = candidate.path(spec.answerField()).asText("").strip();
        if (ours.isEmpty()) {
            return new Judgement(false, "The reviewer reached no answer, so the candidate cannot be confirmed.");
        }
        if (theirs.isEmpty()) {
            return new Judgement(false, "The candidate has no '" + spec.answerField() + "'; the reviewer answers '"
                    + ours + "'.");
        }
        var choices = Gates.choicesOf(type, inputs);
        return ShortAnswers.same(theirs, ours, choices, spec.relativeTolerance())
                ? new Judgement(true, "The reviewer also answers '" + ours + "'.")
                : new Judgement(false, "The reviewer answers '" + ours + "', the candidate '" + theirs + "'.");
    }

    /** A number, also when written as a string ("$1,250"). */
    private static OptionalDouble number(JsonNode node) {
        if (node.isNumber()) {
            return OptionalDouble.of(node.asDouble());
        }
        if (node.isTextual()) {
            return ArithmeticCheck.finalAnswer(node.asText());
        }
        return OptionalDouble.empty();
    }
}
