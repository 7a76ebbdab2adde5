package dev.tandem.oracle.service;

import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.Plan;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.Optional;

/**
 * Plan, then validate: a client plan is validated as sent; otherwise the planner plans and an invalid plan goes
 * back to it for repair, at most {@code tandem.oracle.planner.repair-attempts} times.
 */
@ApplicationScoped
public class PlanningService {

    private static final Logger LOG = Logger.getLogger(PlanningService.class);

    /** A plan ready to run with its execution structure. */
    public record PlannedTask(Plan plan, PlanGraph graph) {
    }

    @Inject
    Planner planner;

    @Inject
    EmbeddedPlanner embeddedPlanner;

    @Inject
    PlanValidator validator;

    @Inject
    OracleConfig config;

    void warmUp(@Observes StartupEvent event) {
        // loading the encoder takes a few seconds; do it off the start-up path, before the first task needs it
        Thread.ofVirtual().name("planner-warm-up").start(() -> {
            try {
                embeddedPlanner.warmUp();
            } catch (RuntimeException e) {
                LOG.warnf("planner warm-up failed (the first task will retry): %s", e.getMessage());
            }
        });
    }

    public PlannedTask plan(String taskId, ExecuteRequest request, io.grpc.Deadline deadline) {
        if (request.hasPlan() && request.getPlan().getStepsCount() > 0) {
            var plan = request.getPlan().getPlanner().isEmpty()
                    ? request.getPlan().toBuilder().setPlanner("client").build() : request.getPlan();
            return new PlannedTask(plan, validator.validate(plan, request.getInputsMap(), deadline));
        }
        if (request.getTask().isBlank()) {
            throw InvalidTaskException.of("task", "the task is empty: describe the task or send a plan");
        }
        var planningRequest = new PlanningRequest(taskId, request.getTask(), request.getInputsMap(),
                request.hasPipeline() && !request.getPipeline().isBlank()
                        ? Optional.of(request.getPipeline()) : Optional.empty(), deadline);
        var plan = planner.plan(planningRequest);
        for (int attempt = 0; ; attempt++) {
            try {
                return new PlannedTask(plan, validator.validate(plan, request.getInputsMap(), deadline));
            } catch (InvalidTaskException invalid) {
                if (attempt >= config.planner().repairAttempts()) {
                    throw invalid;
                }
                var repaired = planner.repair(planningRequest, plan, invalid.violations());
                if (repaired.isEmpty()) {
                    throw invalid;
                }
                LOG.infof("plan repair %d/%d after %d violation(s)", attempt + 1,
                        config.planner().repairAttempts(), invalid.violations().size());
                plan = repaired.get();
            }
        }
    }
}
