package dev.tandem.router.grpc;

import java.util.ArrayList;
import java.util.List;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.rpc.Code;
import com.google.rpc.PreconditionFailure;
import com.google.rpc.RetryInfo;
import dev.tandem.grpc.BackendsUnavailable;
import dev.tandem.grpc.BadRequestDetail;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.router.budget.Budget;
import dev.tandem.router.dispatch.RoutingFailedException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * Builds gRPC errors: field violations for bad input, the right code and details for every routing failure:
 * FAILED_PRECONDITION with a {@code google.rpc.PreconditionFailure} (type REQUIREMENTS or BUDGET) when nothing
 * qualifies, RESOURCE_EXHAUSTED with a {@code google.rpc.RetryInfo} when the step is shed or every backend is rate
 * limited, UNAVAILABLE with a {@code google.rpc.ErrorInfo} (BackendsUnavailable) when every backend failed or its
 * circuit is open, DEADLINE_EXCEEDED when the deadline passed during failover.
 */
final class GrpcErrors {

    private GrpcErrors() {
    }

    /** Collects field violations of one request. */
    static final class Violations {
        private final List<FieldViolation> violations = new ArrayList<>();

        Violations requireNonBlank(String field, String value) {
            if (value == null || value.isBlank()) {
                add(field, "must not be empty");
            }
            return this;
        }

        Violations add(String field, String description) {
            violations.add(new FieldViolation(field, description));
            return this;
        }

        void throwIfAny() {
            if (violations.isEmpty()) {
                return;
            }
            StringBuilder message = new StringBuilder("invalid request: ");
            for (int i = 0; i < violations.size(); i++) {
                if (i > 0) {
                    message.append("; ");
                }
                message.append(violations.get(i).field()).append(' ').append(violations.get(i).description());
            }
            throw BadRequestDetail.invalidArgument(message.toString(), violations);
        }
    }

    static StatusRuntimeException of(RoutingFailedException e) {
        return switch (e.kind()) {
            case NO_CANDIDATE -> withDetail(Code.FAILED_PRECONDITION, e.getMessage(),
                    Any.pack(PreconditionFailure.newBuilder().addViolations(PreconditionFailure.Violation.newBuilder()
                            .setType("REQUIREMENTS").setSubject("step").setDescription(e.getMessage())).build()));
            case BUDGET_EXCEEDED -> budget(e);
            case POOLS_FULL, RATE_LIMITED -> withDetail(Code.RESOURCE_EXHAUSTED, e.getMessage(),
                    Any.pack(RetryInfo.newBuilder().setRetryDelay(duration(e.retryAfterNanos())).build()));
            // UNAVAILABLE with an ErrorInfo: the router answered, its backends did not (BackendsUnavailable)
            case BACKENDS_FAILED -> BackendsUnavailable.status(e.getMessage());
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED.withDescription(e.getMessage()).asRuntimeException();
        };
    }

    private static StatusRuntimeException budget(RoutingFailedException e) {
        Budget b = e.budget();
        String subject = b == null ? "task" : b.isTask() ? "task" : "tenant:" + b.tenant();
        return withDetail(Code.FAILED_PRECONDITION, "budget exceeded: " + e.getMessage(),
                Any.pack(PreconditionFailure.newBuilder().addViolations(PreconditionFailure.Violation.newBuilder()
                        .setType("BUDGET").setSubject(subject)
                        .setDescription(b == null ? e.getMessage() : b.describe())).build()));
    }

    private static StatusRuntimeException withDetail(Code code, String message, Any detail) {
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder().setCode(code.getNumber())
                .setMessage(message).addDetails(detail).build());
    }

    private static Duration duration(long nanos) {
        long n = Math.max(nanos, 1_000_000);
        return Duration.newBuilder().setSeconds(n / 1_000_000_000L)
                .setNanos((int) (n % 1_000_000_000L)).build();
    }

    /** Any failure other than a status (those pass through the CallRunner) as a gRPC status; never a bare UNKNOWN. */
    static StatusRuntimeException of(Throwable t) {
        if (t instanceof RoutingFailedException rfe) {
            return of(rfe);
        }
        return Status.INTERNAL.withDescription("router failure: " + t).withCause(t).asRuntimeException();
    }
}
