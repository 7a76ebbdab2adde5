package dev.tandem.audit.rest;

import java.time.format.DateTimeParseException;
import java.util.List;

import jakarta.ws.rs.DefaultValue;
import java.time.Instant;
import java.util.Locale;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;

import io.smallrye.common.annotation.Blocking;

import dev.tandem.audit.DecisionFilter;
import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.audit.service.ConflictingVerdictException;
import dev.tandem.audit.service.DecisionService;
import dev.tandem.audit.service.InvalidAuditRequestException;
import dev.tandem.audit.service.LeaseHeldException;
import dev.tandem.audit.service.LedgerQueries;
import dev.tandem.audit.service.NotFoundException;
import dev.tandem.audit.service.OnboardingPriors;
import dev.tandem.audit.service.RequestValidation;
import dev.tandem.audit.service.ReviewQueueService;
import dev.tandem.audit.service.TraceExporter;
import dev.tandem.audit.service.VerdictOutcome;
import dev.tandem.grpc.FieldViolation;

/** Admin view of trust states and the ledger, the human review queue and trace export. */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AuditAdminResource {

    private final LedgerQueries queries;
    private final ReviewQueueService reviews;
    private final TraceExporter exporter;
    private final OnboardingPriors onboarding;

    private final DecisionService decisionService;

    public AuditAdminResource(LedgerQueries queries, ReviewQueueService reviews, TraceExporter exporter,
            OnboardingPriors onboarding, DecisionService decisionService) {
        this.decisionService = decisionService;
        this.onboarding = onboarding;
        this.queries = queries;
        this.reviews = reviews;
        this.exporter = exporter;
    }

    @GET
    @Path("/streams")
    public List<StreamView> streams() {
        return queries.listStreams().stream().map(StreamView::of).toList();
    }

    /** The backend may contain slashes (hosted model names such as "meta-llama/Llama-3.1-8B"). */
    @GET
    @Path("/streams/{backend: .+}/{type}")
    public StreamView stream(@PathParam("backend") String backend, @PathParam("type") String type,
            @QueryParam("tenant") @DefaultValue("") String tenant) {
        // a tenant without streams of its own is answered with the shared stream its outputs are decided in
        return StreamView.of(queries.getStream(decisionService.streamOf(new StreamKey(backend, type, tenant))));
    }

    @GET
    @Path("/decisions")
    public List<DecisionView> decisions(@QueryParam("task_id") String taskId,
            @QueryParam("worker_backend") String workerBackend, @QueryParam("worker_type") String workerType,
            @QueryParam("tenant") String tenant, @QueryParam("since") String since,
            @QueryParam("until") String until, @QueryParam("limit") String limit) {
        return queries.listDecisions(new DecisionFilter(taskId, workerBackend, workerType, tenant,
                instant("since", since), instant("until", until), limit(limit))).stream().map(DecisionView::of)
                .toList();
    }

    /** Decision ids usually contain slashes ("task/step/attempt"): raw or URL-encoded both work. */
    @GET
    @Path("/decisions/{id: .+}")
    public DecisionView decision(@PathParam("id") String decisionId) {
        return DecisionView.of(queries.getDecision(decisionId));
    }

    @GET
    @Path("/state-changes")
    public List<StateChangeView> stateChanges(@QueryParam("worker_backend") String workerBackend,
            @QueryParam("worker_type") String workerType, @QueryParam("tenant") String tenant,
            @QueryParam("limit") String limit) {
        return queries.listStateChanges(workerBackend, workerType, tenant, limit(limit)).stream()
                .map(StateChangeView::of).toList();
    }

    /** Pending reviews of a queue (queue=human|model; all queues when absent), oldest first. */
    @GET
    @Path("/review-tasks")
    public List<ReviewTaskView> reviewTasks(@QueryParam("queue") String queue,
            @QueryParam("worker_backend") String workerBackend, @QueryParam("worker_type") String workerType,
            @QueryParam("tenant") String tenant, @QueryParam("include_claimed") @DefaultValue("false")
            boolean includeClaimed, @QueryParam("limit") String limit) {
        return reviews.list(queue(queue), workerBackend, workerType, tenant, includeClaimed, limit(limit)).stream()
                .map(ReviewTaskView::of).toList();
    }

    /** Leases review tasks to a reviewer: {"reviewer", "queue", "max_tasks", "lease_seconds", "decision_id"}. */
    /**
     * Records what a worker backend did on a worker type's golden set when it was onboarded (bin/onboard): a
     * discounted prior of its streams' probation clearance, replacing any earlier evaluation.
     */
    @PUT
    @Path("/onboarding")
    @Consumes(MediaType.APPLICATION_JSON)
    public OnboardingView recordOnboarding(OnboardingView body) {
        if (body == null) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation("body", "is required")));
        }
        return OnboardingView.of(onboarding.record(body.toEvidence()));
    }

    @GET
    @Path("/onboarding")
    public List<OnboardingView> onboarding() {
        return onboarding.list().stream().map(OnboardingView::of).toList();
    }

    @POST
    @Path("/review-tasks/claim")
    @Consumes(MediaType.APPLICATION_JSON)
    public List<ReviewTaskView> claim(ClaimView body) {
        ClaimView c = body == null ? new ClaimView(null, null, 0, 0, null) : body;
        return reviews.claim(queue(c.queue()), c.reviewer(), c.maxTasks(), c.leaseSeconds(), c.decisionId())
                .stream().map(ReviewTaskView::of).toList();
    }

    /**
     * Submits the verdict of a claimed task: {"decision_id", "claim_token", "verdict": "ACCEPTED"|"REJECTED",
     * "reviewer", "reason", "reviewer_output"}. 200 with the stream; 409 when another reviewer holds the lease or
     * a different verdict is stored.
     */
    @POST
    @Path("/review-tasks/verdict")
    @Consumes(MediaType.APPLICATION_JSON)
    public SubmitView submit(SubmitView.Request body) {
        SubmitView.Request b = body == null ? new SubmitView.Request(null, null, null, null, null, null) : body;
        Verdict verdict;
        try {
            verdict = Verdict.valueOf(String.valueOf(b.verdict()).strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            // named in this API's terms: the shared check would ask for the gRPC names, which this API refuses
            throw new InvalidAuditRequestException(List.of(new FieldViolation("verdict",
                    "must be ACCEPTED or REJECTED, got " + b.verdict())));
        }
        VerdictOutcome outcome = reviews.submit(new VerdictRequest(b.decisionId(), verdict, b.reviewer(),
                b.reason(), b.reviewerOutput()), b.claimToken());
        return new SubmitView(outcome.duplicate(), StreamView.of(outcome.stream()));
    }

    /**
     * Streams reviewed traces as JSON Lines: verdict=accepted (distillation) or rejected (eval cases), filtered by
     * worker_backend, worker_type, tenant and verdict time [since, until) (ISO-8601).
     */
    @GET
    @Path("/export/traces")
    @Produces("application/x-ndjson")
    public Response export(@QueryParam("verdict") @DefaultValue("accepted") String verdict,
            @QueryParam("worker_backend") String workerBackend, @QueryParam("worker_type") String workerType,
            @QueryParam("tenant") String tenant, @QueryParam("since") String since,
            @QueryParam("until") String until) {
        Verdict v = switch (verdict.toLowerCase(Locale.ROOT)) {
            case "accepted" -> Verdict.ACCEPTED;
            case "rejected" -> Verdict.REJECTED;
            default -> throw new InvalidAuditRequestException(List.of(new FieldViolation("verdict",
                    "must be accepted or rejected")));
        };
        Instant from = instant("since", since);
        Instant to = instant("until", until);
        // checked before the answer starts: a failure while streaming can no longer be a 400
        RequestValidation.checkFilters("worker_backend", workerBackend, "worker_type", workerType, "tenant", tenant);
        StreamingOutput body = out -> exporter.export(v, workerBackend, workerType, tenant, from, to, out);
        return Response.ok(body, "application/x-ndjson").header("Content-Disposition",
                "inline; filename=\"" + verdict.toLowerCase(Locale.ROOT) + "-traces.jsonl\"").build();
    }

    @ServerExceptionMapper
    public Response conflict(ConflictingVerdictException e) {
        return error(Response.Status.CONFLICT, new ErrorView(e.getMessage(), List.of()));
    }

    @ServerExceptionMapper
    public Response leaseHeld(LeaseHeldException e) {
        return error(Response.Status.CONFLICT, new ErrorView(e.getMessage(), List.of()));
    }

    private static ReviewQueue queue(String name) {
        if (name == null || name.isEmpty()) {
            return null;
        }
        try {
            return ReviewQueue.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation("queue", "must be human or model")));
        }
    }

    private static Instant instant(String field, String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            return RequestValidation.instant(field, Instant.parse(value));
        } catch (DateTimeParseException e) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation(field,
                    "must be an ISO-8601 instant such as 2026-01-31T00:00:00Z, got " + value)));
        }
    }

    /**
     * A page size as sent: a query parameter JAX-RS could not convert to an int would be a bare 404, which reads
     * as "no such resource" rather than "bad limit".
     */
    private static int limit(String value) {
        if (value == null || value.isEmpty()) {
            return 0;
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation("limit",
                    "must be a whole number (0: the default page), got " + value)));
        }
    }

    /** A body that is not JSON, or whose field has the wrong type: 400 naming the field, not an empty 400. */
    @ServerExceptionMapper
    public Response unreadableBody(JsonProcessingException e) {
        String field = e instanceof JsonMappingException m ? m.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b).orElse("body") : "body";
        return error(Response.Status.BAD_REQUEST, new ErrorView("request body is not valid: " + e.getOriginalMessage(),
                List.of(new FieldViolation(field, e.getOriginalMessage()))));
    }

    /** The JSON reader wraps a body that does not parse in a bare 400. */
    @ServerExceptionMapper
    public Response badRequest(WebApplicationException e) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return unreadableBody(json);
        }
        return e.getResponse();
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return error(Response.Status.NOT_FOUND, new ErrorView(e.getMessage(), List.of()));
    }

    @ServerExceptionMapper
    public Response invalid(InvalidAuditRequestException e) {
        return error(Response.Status.BAD_REQUEST, new ErrorView(e.getMessage(), e.violations()));
    }

    @ServerExceptionMapper
    public Response unavailable(LedgerUnavailableException e) {
        return error(Response.Status.SERVICE_UNAVAILABLE, new ErrorView("audit ledger unavailable", List.of()));
    }

    private static Response error(Response.Status status, ErrorView body) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(body).build();
    }
}
