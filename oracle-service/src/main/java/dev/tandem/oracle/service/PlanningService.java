package dev.tandem.oracle.service;

import dev.tandem.grpc.FieldViolation;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.Plan;
import io.grpc.Deadline;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import dev.tandem.models.chat.TokenUsage;

import java.util.List;
import java.util.Optional;

/**
 * Plan, then validate: a client plan is validated as sent; otherwise the planner plans and an invalid plan goes
 * back to it for repair, at most {@code tandem.oracle.planner.repair-attempts} times.
 */
@ApplicationScoped
public class PlanningService {

    private static final Logger LOG = Logger.getLogger(PlanningService.class);

    /**
     * A plan ready to run with its execution structure, and what planning cost in model tokens (the client's plan
     * costs nothing; {@code usage} is {@link TokenUsage#NONE}).
     */
    public record PlannedTask(Plan plan, PlanGraph graph, TokenUsage usage) {
    }

    private final EmbeddedPlanner embeddedPlanner;
    private final ModelPlanner modelPlanner;
    private final PlanValidator validator;
    private final OracleConfig config;

    public PlanningService(EmbeddedPlanner embeddedPlanner, ModelPlanner modelPlanner, PlanValidator validator,
            OracleConfig config) {
        this.embeddedPlanner = embeddedPlanner;
        this.modelPlanner = modelPlanner;
        this.validator = validator;
        this.config = config;
    }

    void warmUp(@Observes StartupEvent event) {
        if (planner() != embeddedPlanner || !config.planner().preloadEncoder()) {
            // a model plans, so the encoder is never needed; or it loads for the first task that names no pipeline
            // (tasks naming a pipeline or sending a plan never load it): tens of MB of native memory otherwise held
            return;
        }
        // loading the encoder takes a few seconds; do it off the start-up path, before the first task needs it
        Thread.ofVirtual().name("planner-warm-up").start(() -> {
            try {
                embeddedPlanner.warmUp();
            } catch (RuntimeException e) {
                LOG.warnf("planner warm-up failed (the first task will retry): %s", e.getMessage());
            }
        });
    }

    /** The planner in use: the model planner when {@code tandem.oracle.planner.model} names a model. */
    public Planner planner() {
        return config.planner().model().isPresent() ? modelPlanner : embeddedPlanner;
    }

    /** A plan made and stored earlier, validated again (the router's worker types may have changed meanwhile). */
    public PlannedTask stored(Plan plan, ExecuteRequest request, Deadline deadline) {
        return new PlannedTask(plan, validator.validate(plan, request.getInputsMap(), deadline), TokenUsage.NONE);
    }

    public PlannedTask plan(String taskId, ExecuteRequest request, Deadline deadline) {
        if (request.hasPlan() && request.getPlan().getStepsCount() > 0) {
            var plan = request.getPlan().getPlanner().isEmpty()
                    ? request.getPlan().toBuilder().setPlanner("client").build() : request.getPlan();
            return new PlannedTask(plan, validator.validate(plan, request.getInputsMap(), deadline), TokenUsage.NONE);
        }
        if (request.getTask().isBlank()) {
            throw InvalidTaskException.of("task", "the task is empty: describe the task or send a plan");
        }
        var planningRequest = new PlanningRequest(taskId, request.getTask(), request.getInputsMap(),
                request.hasPipeline() && !request.getPipeline().isBlank()
                        ? Optional.of(request.getPipeline()) : Optional.empty(), deadline);
        var planner = planner();
        var draft = planner.plan(planningRequest);
        var usage = draft.usage();
        for (int attempt = 0; ; attempt++) {
            try {
                if (draft.plan().isEmpty()) {
                    var problem = draft.problem().orElse(new FieldViolation("plan", "the planner returned no plan"));
                    throw new InvalidTaskException("the planner's answer is not a plan: " + problem.description(),
                            List.of(problem));
                }
                var plan = draft.plan().get();
                return new PlannedTask(plan, validator.validate(plan, request.getInputsMap(), deadline), usage);
            } catch (InvalidTaskException invalid) {
                if (attempt >= config.planner().repairAttempts()) {
                    throw attempt == 0 ? invalid : new InvalidTaskException("the planner's plan is still invalid after "
                            + attempt + " repair(s): " + invalid.getMessage(), invalid.violations());
                }
                var repaired = planner.repair(planningRequest, draft, invalid.violations());
                if (repaired.isEmpty()) {
                    throw invalid;
                }
                LOG.infof("plan repair %d/%d after %d violation(s): %s", attempt + 1,
                        config.planner().repairAttempts(), invalid.violations().size(), invalid.getMessage());
                draft = repaired.get();
                usage = usage.plus(draft.usage());
            }
        }
    }
}
