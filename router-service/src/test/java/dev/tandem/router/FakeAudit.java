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
 * {@code cal-small} is overconfident on worker type {@code calib-test} (raw 0.9 is right only 30 % of the time).
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
                .build());
        observer.onCompleted();
    }
}
