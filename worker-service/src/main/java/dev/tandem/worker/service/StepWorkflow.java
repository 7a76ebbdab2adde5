package dev.tandem.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.TokenUsage;
import dev.tandem.worker.config.TandemConfig;
import dev.tandem.worker.service.StepException.Reason;
import dev.tandem.worker.service.StepOutcome.Phase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The structured workflow of one step: pre-flight (worker type, inputs, model, size), implement (the model),
 * validate (the type's gates), checkpoint (remember the result; replay it for an identical retry).
 */
@ApplicationScoped
public class StepWorkflow {

    private static final Logger LOG = Logger.getLogger(StepWorkflow.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final WorkerTypeCatalog catalog;
    private final ModelRegistry models;
    private final StepModels stepModels;
    private final CheckpointStore checkpoints;
    private final TandemConfig config;
    private final MeterRegistry registry;

    public StepWorkflow(WorkerTypeCatalog catalog, ModelRegistry models, StepModels stepModels,
            CheckpointStore checkpoints, TandemConfig config, MeterRegistry registry) {
        this.catalog = catalog;
        this.models = models;
        this.stepModels = stepModels;
        this.checkpoints = checkpoints;
        this.config = config;
        this.registry = registry;
    }

    /** A step that passed pre-flight: everything needed to run it. */
    record Prepared(WorkerTypeCatalog.LoadedType type, ModelSpec model, StepModel backend) {
    }

    /** A step's output with its gate outcomes and the phases it went through. */
    record Run(StepModel.ModelAnswer answer, String output, List<Gates.GateOutcome> gates, double confidence,
               List<Phase> phases) {
        boolean passed() {
            return gates.stream().allMatch(Gates.GateOutcome::passed);
        }
    }

    /**
     * Executes one step through the workflow within the command's deadline: the model call gets it, and a step
     * whose caller gave up or ran out of time stops with CANCELLED or DEADLINE_EXCEEDED.
     */
    public StepOutcome execute(StepCommand command) {
        long start = System.nanoTime();
        try {
            return executeWithin(command, start);
        } catch (StepException e) {
            if (e.reason() == Reason.DEADLINE_EXCEEDED || e.reason() == Reason.CANCELLED) {
                record(command.workerType(), command.modelId(),
                        e.reason() == Reason.CANCELLED ? "cancelled" : "timeout", start);
            }
            throw e;
        }
    }

    private StepOutcome executeWithin(StepCommand command, long start) {
        var phases = new ArrayList<Phase>();
        Prepared prepared;
        try {
            prepared = preflight(command.workerType(), command.inputs(), command.modelId(), command.attempt(),
                    Map.of("instructions", command.instructions()));
        } catch (StepException e) {
            record(command.workerType(), command.modelId(), "rejected", start);
            throw e;
        }
        var type = prepared.type().definition();
        phases.add(phase("preflight", start, type.name() + " with " + prepared.model().id() + ", "
                + command.inputs().size() + " inputs"));

        boolean checkpointable = !command.taskId().isBlank();
        var key = checkpointable ? CheckpointStore.key(command) : null;
        if (checkpointable) {
            long lookup = System.nanoTime();
            var stored = checkpoints.find(key);
            if (stored.isPresent()) {
                phases.add(phase("checkpoint", lookup, "replayed the result of an identical earlier request"));
                counter("tandem.worker.checkpoint.hits", "worker_type", type.name()).increment();
                record(type.name(), prepared.model().id(), "checkpoint", start);
                LOG.infof("Step %s attempt %d replayed from checkpoint", command.stepId(), command.attempt());
                return stored.get().replayed(phases, millisSince(start));
            }
        }

        var run = run(prepared, command.inputs(), command.instructions(), phases, command.deadline(),
                command.callKey());

        long checkpointStart = System.nanoTime();
        phases.add(phase("checkpoint", checkpointStart, checkpointable ? "stored" : "skipped: no task id"));
        // raw only: the audit service fits the calibration per stream and the router applies it
        var finished = new StepOutcome(run.output(), run.confidence(),
                run.answer().confidenceMethod(), run.passed(), run.gates(), run.answer().usage(),
                millisSince(start), prepared.model().id(), List.copyOf(phases), false);
        if (checkpointable) {
            checkpoints.put(key, finished);
        }
        DistributionSummary.builder("tandem.worker.confidence").description("Confidence of step outputs")
                .tags("worker_type", type.name(), "model", prepared.model().id()).register(registry)
                .record(finished.rawConfidence());
        record(type.name(), prepared.model().id(), finished.passed() ? "passed" : "gate_failed", start);
        tokens(prepared.model().id(), finished.usage());
        LOG.infof("Step %s (%s) done with %s: confidence %.3f (%s), %d/%d gates passed, %d+%d tokens, %.1f ms",
                command.stepId(), type.name(), prepared.model().id(), finished.rawConfidence(),
                finished.confidenceMethod(), run.gates().stream().filter(Gates.GateOutcome::passed).count(),
                run.gates().size(), finished.usage().inputTokens(), finished.usage().outputTokens(),
                finished.latencyMs());
        return finished;
    }

    /** Pre-flight without other text read: {@link #preflight(String, Map, String, int, Map)}. */
    Prepared preflight(String workerType, Map<String, String> inputs, String modelId, int attempt) {
        return preflight(workerType, inputs, modelId, attempt, Map.of());
    }

    /**
     * Pre-flight: the worker type, the inputs, the model and the size; throws with every violation found.
     *
     * @param alsoRead the request's other text the step reads (its instructions, a review's candidate), by field:
     *                 it counts against {@code max-input-chars} with the inputs
     */
    Prepared preflight(String workerType, Map<String, String> inputs, String modelId, int attempt,
                       Map<String, String> alsoRead) {
        if (workerType.isBlank()) {
            throw StepException.invalid(List.of(new FieldViolation("worker_type", "worker_type is required")));
        }
        var type = catalog.find(workerType).orElseThrow(() -> StepException.invalid(List.of(new FieldViolation(
                "worker_type", "unknown worker type '" + workerType + "'; known: "
                        + catalog.all().stream().map(t -> t.definition().name()).toList()))));
        var violations = new ArrayList<>(InputChecks.check(type.definition(), inputs));
        if (modelId.isBlank()) {
            violations.add(new FieldViolation("model_id", "model_id is required"));
        }
        if (attempt < 0) {
            violations.add(new FieldViolation("attempt", "attempt must not be negative"));
        }
        long size = inputs.values().stream().mapToLong(String::length).sum();
        long max = config.worker().maxInputChars();
        if (size > max) {
            violations.add(new FieldViolation("inputs", "inputs total " + size + " characters, more than the "
                    + max + " allowed"));
        } else {
            // the model reads these too (a prompt, a candidate to embed or compare): unbounded, a few MB each
            for (var other : alsoRead.entrySet()) {
                size += other.getValue().length();
                if (size > max) {
                    violations.add(new FieldViolation(other.getKey(), "inputs and " + other.getKey()
                            + " total " + size + " characters, more than the " + max + " allowed"));
                    break;
                }
            }
        }
        if (!violations.isEmpty()) {
            throw StepException.invalid(violations);
        }
        var model = models.find(modelId).orElseThrow(() -> new StepException(Reason.NOT_FOUND,
                "model '" + modelId + "' is not configured on this worker",
                List.of(new FieldViolation("model_id", "unknown model '" + modelId + "'; configured: "
                        + models.all().stream().map(ModelSpec::id).toList()))));
        var missing = type.definition().requiredCapabilities().stream().filter(c -> !model.can(c)).toList();
        if (!missing.isEmpty()) {
            throw new StepException(Reason.FAILED_PRECONDITION, "model " + model.id() + " lacks " + missing
                    + ", required by worker type " + workerType + " (it has " + model.capabilities() + ")");
        }
        return new Prepared(type, model, stepModels.require(model));
    }

    /** Implement and validate; appends their phases. {@code callKey} names the model call ("" when unkeyed). */
    Run run(Prepared prepared, Map<String, String> inputs, String instructions, List<Phase> phases,
            CallDeadline deadline, String callKey) {
        var type = prepared.type().definition();
        long implement = System.nanoTime();
        StepModel.ModelAnswer answer;
        try {
            answer = prepared.backend().implement(type, prepared.model(), inputs, instructions, deadline, callKey);
        } catch (StepException e) {
            e.errorInfo().ifPresent(info -> counter("tandem.worker.model.errors", "model", prepared.model().id(),
                    "kind", info.reason()).increment());
            LOG.warnf("Model %s failed on %s: %s", prepared.model().id(), type.name(), e.getMessage());
            throw e;
        }
        phases.add(phase("implement", implement, answer.detail()));

        long validate = System.nanoTime();
        var gates = Gates.run(type, prepared.type().outputSchema(), inputs, answer.output());
        long passed = gates.stream().filter(Gates.GateOutcome::passed).count();
        gates.stream().filter(g -> !g.passed()).forEach(g -> {
            counter("tandem.worker.gate.failures", "worker_type", type.name(), "gate", g.name()).increment();
            // a wrong output is the model's expected failure mode, answered in the validation report and counted,
            // not an operational warning: at WARN a weak model's stream would flood the log on the hot path
            LOG.debugf("Gate %s failed for %s: %s", g.name(), type.name(), g.detail());
        });
        phases.add(phase("validate", validate, passed + " of " + gates.size() + " gates passed"));
        // A failed gate lowers confidence in proportion, so the audit reviews it; calibration comes after (router).
        double confidence = gates.isEmpty() ? answer.rawConfidence()
                : answer.rawConfidence() * passed / gates.size();
        return new Run(answer, toJson(answer.output()), gates, confidence, phases);
    }

    static String toJson(Object node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void record(String workerType, String model, String outcome, long start) {
        Timer.builder("tandem.worker.steps").description("Steps executed by the worker")
                .tags("worker_type", knownTypeOr(workerType), "model", knownModelOr(model), "outcome", outcome)
                .register(registry).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }

    /** Tag values only from loaded types and configured models, so bad requests cannot blow up cardinality. */
    private String knownTypeOr(String workerType) {
        return catalog.find(workerType).isPresent() ? workerType : "unknown";
    }

    private String knownModelOr(String model) {
        return models.find(model).isPresent() ? model : "unknown";
    }

    private void tokens(String model, TokenUsage usage) {
        counter("tandem.worker.tokens", "model", model, "kind", "input").increment(usage.inputTokens());
        counter("tandem.worker.tokens", "model", model, "kind", "output").increment(usage.outputTokens());
        counter("tandem.worker.tokens", "model", model, "kind", "cached_input").increment(usage.cachedInputTokens());
    }

    private Counter counter(String name, String... tags) {
        return Counter.builder(name).tags(tags).register(registry);
    }

    static Phase phase(String name, long startNanos, String detail) {
        return new Phase(name, millisSince(startNanos), detail);
    }

    static double millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000.0;
    }
}
