package dev.tandem.worker.rest;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.worker.service.GoldenSetEvaluator;
import dev.tandem.worker.service.GoldenSetEvaluator.Evaluation;
import dev.tandem.worker.service.GoldenSetEvaluator.GoldenItem;
import dev.tandem.worker.service.StepException;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Onboarding of a model on a worker type: POST /api/onboarding/evaluate runs the model on the worker type's golden
 * set (bundled, or the items sent) and answers with the result and, under {@code evidence}, the body the audit
 * service's PUT /api/onboarding takes (bin/onboard sends it there).
 */
@Path("/api/onboarding")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class OnboardingResource {

    private final GoldenSetEvaluator evaluator;

    public OnboardingResource(GoldenSetEvaluator evaluator) {
        this.evaluator = evaluator;
    }

    /** Body: the model to onboard, the worker type, the reviewer for items without references, optional items. */
    public record EvaluateRequest(String model, @JsonProperty("worker_type") String workerType, String reviewer,
                                  List<JsonNode> items) {
    }

    /**
     * What the audit service records: see the audit's OnboardingView. The items' raw confidences let it price what
     * a confidence threshold would review once the stream is trusted.
     */
    public record Evidence(@JsonProperty("worker_backend") String workerBackend,
                           @JsonProperty("worker_type") String workerType, String source, long items, long rejected,
                           String detail, @JsonProperty("right_confidences") List<Double> rightConfidences,
                           @JsonProperty("wrong_confidences") List<Double> wrongConfidences) {
    }

    public record EvaluateResponse(Evaluation evaluation, Evidence evidence) {
    }

    public record ErrorView(String error, List<FieldViolation> violations) {
    }

    @POST
    @Path("/evaluate")
    @Consumes(MediaType.APPLICATION_JSON)
    public EvaluateResponse evaluate(EvaluateRequest body) {
        var violations = new ArrayList<FieldViolation>();
        if (body == null || body.model() == null || body.model().isBlank()) {
            violations.add(new FieldViolation("model", "is required"));
        }
        if (body == null || body.workerType() == null || body.workerType().isBlank()) {
            violations.add(new FieldViolation("worker_type", "is required"));
        }
        if (!violations.isEmpty()) {
            throw StepException.invalid(violations);
        }
        boolean own = body.items() != null && !body.items().isEmpty();
        List<GoldenItem> items = own ? body.items().stream().map(GoldenSetEvaluator::parse).toList()
                : evaluator.bundled(body.workerType());
        String source = own ? "golden-set (sent by the caller)" : "golden-set (bundled golden/" + body.workerType()
                + ".jsonl)";
        var e = evaluator.evaluate(body.model(), body.workerType(), Optional.ofNullable(body.reviewer()), items,
                source);
        String detail = String.format(Locale.ROOT, "%s: %d judged against reference outputs, %d by %s (%d+%d "
                        + "reviewer tokens, paid once); mean confidence %.3f", source, e.judgedByReference(),
                e.judgedByReviewer(), e.reviewer().isEmpty() ? "no reviewer" : e.reviewer(),
                e.reviewerUsage().inputTokens(), e.reviewerUsage().outputTokens(), e.meanConfidence());
        return new EvaluateResponse(e, new Evidence(e.model(), e.workerType(), "golden-set", e.items(), e.rejected(),
                detail, e.rightConfidences(), e.wrongConfidences()));
    }

    /**
     * A body that is not JSON, or JSON of the wrong shape ({@code "items": "x"}), is a 400 naming the field like any
     * other refusal (the defaults answered an empty 400, or Jackson's internals).
     */
    @ServerExceptionMapper
    public Response unreadable(JsonProcessingException e) {
        var field = e instanceof JsonMappingException mapping ? mapping.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b).orElse("body") : "body";
        return Response.status(Response.Status.BAD_REQUEST).type(MediaType.APPLICATION_JSON)
                .entity(new ErrorView("the body is not an evaluation request", List.of(new FieldViolation(field,
                        "cannot be read: " + e.getOriginalMessage())))).build();
    }

    @ServerExceptionMapper
    public Response unreadable(WebApplicationException e) {
        return e.getCause() instanceof JsonProcessingException json ? unreadable(json) : e.getResponse();
    }

    @ServerExceptionMapper
    public Response failed(StepException e) {
        var status = switch (e.reason()) {
            case INVALID_ARGUMENT -> Response.Status.BAD_REQUEST;
            case NOT_FOUND -> Response.Status.NOT_FOUND;
            case FAILED_PRECONDITION -> Response.Status.CONFLICT;
            default -> Response.Status.SERVICE_UNAVAILABLE;
        };
        return Response.status(status).type(MediaType.APPLICATION_JSON)
                .entity(new ErrorView(e.getMessage(), e.violations())).build();
    }
}
