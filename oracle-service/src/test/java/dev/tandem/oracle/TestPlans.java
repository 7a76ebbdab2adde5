package dev.tandem.oracle;

import com.google.rpc.BadRequest;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.PlanStep;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Helpers to build plans and read field violations. */
public final class TestPlans {

    private TestPlans() {
    }

    public static PlanStep step(String id, String type, Map<String, String> inputs, String... dependsOn) {
        return PlanStep.newBuilder().setId(id).setWorkerType(type).putAllInputs(inputs)
                .addAllDependsOn(List.of(dependsOn)).build();
    }

    public static PlanStep classify(String id, String... dependsOn) {
        return step(id, "classify", Map.of("text", "{{inputs.document}}"), dependsOn);
    }

    public static Plan plan(PlanStep... steps) {
        return Plan.newBuilder().addAllSteps(List.of(steps)).build();
    }

    /** The field violations of an INVALID_ARGUMENT error, as field -> description. */
    public static Map<String, String> violations(StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        var status = StatusProto.fromThrowable(e);
        assertThat(status).as("rich status").isNotNull();
        var out = new java.util.LinkedHashMap<String, String>();
        for (var detail : status.getDetailsList()) {
            if (detail.is(BadRequest.class)) {
                try {
                    detail.unpack(BadRequest.class).getFieldViolationsList()
                            .forEach(v -> out.merge(v.getField(), v.getDescription(), (a, b) -> a + " | " + b));
                } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
                    throw new AssertionError(ex);
                }
            }
        }
        assertThat(out).as("BadRequest field violations").isNotEmpty();
        return out;
    }
}
