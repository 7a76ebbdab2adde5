package dev.tandem.router;

import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.Calibration;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.CalibrationMethod;
import dev.tandem.proto.audit.v1.ListStreamsRequest;
import dev.tandem.proto.audit.v1.ListStreamsResponse;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.TrustState;
import io.grpc.stub.StreamObserver;

/**
 * The audit service as the router sees it: ListStreams with one stream whose calibration says that model
 * {@code cal-small} is overconfident on worker type {@code calib-test} (raw 0.9 is right only 30 % of the time), and
 * trusted streams (2 % of outputs reviewed, no verdicts counted) for the cheap models the routing tests expect to be
 * chosen on price: {@code embedded-minilm} on {@code classify}, {@code pk-weak} and {@code pk-strong} on
 * {@code predict-test}.
 */
public class FakeAudit extends AuditServiceGrpc.AuditServiceImplBase {

    @Override
    public void listStreams(ListStreamsRequest request, StreamObserver<ListStreamsResponse> observer) {
        Calibration overconfident = Calibration.newBuilder()
                .setMethod(CalibrationMethod.CALIBRATION_METHOD_ISOTONIC)
                .setSamples(250)
                .addKnots(CalibrationKnot.newBuilder().setRaw(0.5).setCalibrated(0.1))
                .addKnots(CalibrationKnot.newBuilder().setRaw(1.0).setCalibrated(0.5))
                .build();
        observer.onNext(ListStreamsResponse.newBuilder()
                .addStreams(StreamStatus.newBuilder().setWorkerBackend("cal-small").setWorkerType("calib-test")
                        .setState(TrustState.TRUST_STATE_NORMAL).setDecided(300).setReviewed(250).setRejected(2)
                        .setCalibration(overconfident))
                .addStreams(trusted("embedded-minilm", "classify"))
                .addStreams(trusted("pk-weak", "predict-test"))
                .addStreams(trusted("pk-strong", "predict-test"))
                .build());
        observer.onCompleted();
    }

    private static StreamStatus trusted(String model, String workerType) {
        return StreamStatus.newBuilder().setWorkerBackend(model).setWorkerType(workerType)
                .setState(TrustState.TRUST_STATE_NORMAL).setDecided(1000).setReviewProbability(0.02)
                .setBlockingProbability(0).setProjectedReviewProbability(0.02).setTargetErrorRate(0.01).build();
    }
}
