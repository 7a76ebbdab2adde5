package dev.tandem.oracle.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class TaskAdmissionTests {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void pastItsCapacityAReplicaRefusesATaskWithWhenToRetryAndTakesOneAgainWhenAPlaceIsFree() throws Exception {
        var admission = new TaskAdmission(2, registry);
        var first = admission.enter();
        var second = admission.enter();

        var refused = catchThrowableOfType(StatusRuntimeException.class, admission::enter);

        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(refused.getStatus().getDescription()).contains("at capacity (2 tasks running");
        var retry = StatusProto.fromThrowable(refused).getDetails(0).unpack(RetryInfo.class);
        assertThat(retry.getRetryDelay().getNanos()).isPositive();
        assertThat(registry.get("tandem.oracle.admission.rejected").tag("reason", "at_capacity").counter().count())
                .isEqualTo(1);
        assertThat(registry.get("tandem.oracle.tasks.in.flight").gauge().value()).isEqualTo(2);

        first.close();
        first.close(); // closing twice gives back one place, not two
        try (var third = admission.enter()) {
            assertThat(admission.inFlight()).isEqualTo(2);
            assertThat(catchThrowableOfType(StatusRuntimeException.class, admission::enter)).isNotNull();
        }
        second.close();
        assertThat(admission.inFlight()).isZero();
    }

    @Test
    void aLimitOfZeroAdmitsEveryTaskAndStillCountsThem() {
        var admission = new TaskAdmission(0, registry);
        var permits = new java.util.ArrayList<TaskAdmission.Permit>();
        for (int i = 0; i < 1000; i++) {
            permits.add(admission.enter());
        }
        assertThat(admission.inFlight()).isEqualTo(1000);
        permits.forEach(TaskAdmission.Permit::close);
        permits.getFirst().close(); // closing twice gives back one place, not two
        assertThat(admission.inFlight()).isZero();
    }
}
