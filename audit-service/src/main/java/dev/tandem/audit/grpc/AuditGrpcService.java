package dev.tandem.audit.grpc;

import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

import org.jboss.logging.MDC;

import io.quarkus.grpc.GrpcService;
import io.quarkus.virtual.threads.VirtualThreads;
import io.smallrye.mutiny.Uni;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.mapping.ProtoMapper;
import dev.tandem.audit.service.AuditLedgerService;
import dev.tandem.audit.service.DecideOutcome;
import dev.tandem.audit.service.VerdictOutcome;
import dev.tandem.proto.audit.v1.AuditService;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.GetStreamResponse;
import dev.tandem.proto.audit.v1.ListDecisionsRequest;
import dev.tandem.proto.audit.v1.ListDecisionsResponse;
import dev.tandem.proto.audit.v1.ListStreamsRequest;
import dev.tandem.proto.audit.v1.ListStreamsResponse;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.RecordVerdictResponse;

/**
 * tandem.audit.v1.AuditService over gRPC. Every method blocks on JDBC, so all run on virtual threads; the audit
 * service calls nothing downstream, so there is no deadline to propagate. The methods are not annotated
 * {@code @Blocking}: on the shared HTTP/gRPC server Quarkus 3.27 can then deliver a unary call's half-close
 * before its message ("Half-closed without a request", quarkusio/quarkus#48940), so the work is offloaded here.
 */
@GrpcService
public class AuditGrpcService implements AuditService {

    private final AuditLedgerService audit;
    private final ExecutorService blocking;

    public AuditGrpcService(AuditLedgerService audit, @VirtualThreads ExecutorService blocking) {
        this.audit = audit;
        this.blocking = blocking;
    }

    @Override
    public Uni<DecideResponse> decide(DecideRequest request) {
        return withTask(request.getTaskId(), () -> {
            DecideOutcome outcome = audit.decide(ProtoMapper.toDomain(request));
            return ProtoMapper.toProto(outcome.decisionId(), outcome.decision(), outcome.replayed());
        });
    }

    @Override
    public Uni<RecordVerdictResponse> recordVerdict(RecordVerdictRequest request) {
        // The task id is known only from the stored decision: the service puts it in the MDC.
        return withTask("", () -> {
            VerdictOutcome outcome = audit.recordVerdict(ProtoMapper.toDomain(request));
            return RecordVerdictResponse.newBuilder()
                    .setDuplicate(outcome.duplicate())
                    .setStream(ProtoMapper.toProto(outcome.stream()))
                    .build();
        });
    }

    @Override
    public Uni<GetStreamResponse> getStream(GetStreamRequest request) {
        return withTask("", () -> GetStreamResponse.newBuilder()
                .setStream(ProtoMapper.toProto(audit.getStream(
                        new StreamKey(request.getWorkerBackend(), request.getWorkerType(), request.getTenant()))))
                .build());
    }

    @Override
    public Uni<ListStreamsResponse> listStreams(ListStreamsRequest request) {
        return withTask("", () -> {
            ListStreamsResponse.Builder response = ListStreamsResponse.newBuilder();
            audit.listStreams().forEach(s -> response.addStreams(ProtoMapper.toProto(s)));
            return response.build();
        });
    }

    @Override
    public Uni<ListDecisionsResponse> listDecisions(ListDecisionsRequest request) {
        return withTask(request.getTaskId(), () -> {
            ListDecisionsResponse.Builder response = ListDecisionsResponse.newBuilder();
            audit.listDecisions(request.getTaskId(), request.getWorkerBackend(), request.getWorkerType(),
                    request.getPageSize()).forEach(e -> response.addDecisions(ProtoMapper.toProto(e)));
            return response.build();
        });
    }

    /** Runs the call on a virtual thread with the task id in the log context; failures become gRPC statuses. */
    private <T> Uni<T> withTask(String taskId, Supplier<T> call) {
        boolean tagged = taskId != null && !taskId.isEmpty();
        return Uni.createFrom().item(() -> {
            if (tagged) {
                MDC.put("taskId", taskId);
            }
            try {
                return call.get();
            } catch (RuntimeException e) {
                throw GrpcErrors.toStatus(e);
            } finally {
                if (tagged) {
                    MDC.remove("taskId");
                }
            }
        }).runSubscriptionOn(blocking);
    }
}
