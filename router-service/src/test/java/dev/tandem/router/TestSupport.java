package dev.tandem.router;

import java.util.List;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/** Helpers shared by the router's gRPC tests. */
final class TestSupport {

    private TestSupport() {
    }

    static DispatchRequest.Builder step(String workerType) {
        return DispatchRequest.newBuilder().setTaskId("task-" + workerType).setStepId("step-" + System.nanoTime())
                .setWorkerType(workerType).putInputs("text", "The parcel arrived broken and late.");
    }

    static List<String> fieldViolations(StatusRuntimeException error) {
        return detail(error, BadRequest.class).getFieldViolationsList().stream()
                .map(BadRequest.FieldViolation::getField).toList();
    }

    /** The first detail of that type in the error's google.rpc.Status; fails when absent. */
    static <T extends Message> T detail(StatusRuntimeException error, Class<T> type) {
        com.google.rpc.Status status = StatusProto.fromThrowable(error);
        if (status == null) {
            throw new AssertionError("no google.rpc.Status details in " + error);
        }
        return status.getDetailsList().stream().filter(d -> d.is(type)).findFirst().map(d -> {
            try {
                return d.unpack(type);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }).orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " detail in " + error));
    }

    /** Sends a control step straight to a fake worker (not through the router). */
    static void control(String endpoint, String workerType, String key, String value) {
        ManagedChannel channel = ManagedChannelBuilder.forTarget(endpoint).usePlaintext().build();
        try {
            WorkerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .executeStep(ExecuteStepRequest.newBuilder().setWorkerType(workerType).putInputs(key, value)
                            .build());
        } finally {
            channel.shutdownNow();
        }
    }
}
