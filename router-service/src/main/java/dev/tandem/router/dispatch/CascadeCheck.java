package dev.tandem.router.dispatch;

import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.Calibrations;

/**
 * The cascade's look at a worker's output: its raw confidence calibrated with the audit's map of its stream (the one
 * calibrated value of the output, which the cascade compares and the oracle reports and records), and why the
 * output should climb to the next more capable tier (a failed validation gate, or a calibrated confidence under the
 * worker type's threshold), if it should. {@link RoutingService} runs the climb.
 */
@ApplicationScoped
public class CascadeCheck {

    private final Calibrations calibrations;

    private final RouterConfig config;

    public CascadeCheck(Calibrations calibrations, RouterConfig config) {
        this.calibrations = calibrations;
        this.config = config;
    }

    /** The worker's raw confidence calibrated by the audit's map of the stream (no map: the raw value). */
    Calibrations.Applied calibrate(ExecuteStepResponse response, Backend backend, DispatchRequest request,
                                   DispatchTrace trace) {
        double raw = rawConfidence(response);
        Calibrations.Applied applied = calibrations.apply(backend.model().id(), request.getWorkerType(),
                request.getTenant(), raw);
        if (applied.map() != null) {
            trace.add(String.format(Locale.ROOT, "calibrated confidence %.3f -> %.3f (%s map of stream %s, %d reviews)",
                    raw, applied.calibrated(), applied.map().method(), applied.stream().replace('\n', '/'),
                    applied.map().samples()));
        }
        return applied;
    }

    /**
     * The worker's raw confidence: raw_confidence, or the deprecated confidence from a worker of the first v1 that
     * sent only that (the two were the same number).
     */
    @SuppressWarnings("deprecation")
    static double rawConfidence(ExecuteStepResponse response) {
        return response.getRawConfidence() == 0 && response.getConfidence() != 0 ? response.getConfidence()
                : response.getRawConfidence();
    }

    /**
     * The worker's response as DispatchResponse.result carries it: raw_confidence as read, and the deprecated
     * confidence set to the calibrated value, which oracles of the first v1 read there (new ones read
     * DispatchResponse.calibrated_confidence).
     */
    @SuppressWarnings("deprecation")
    static ExecuteStepResponse asFirstV1Reads(ExecuteStepResponse response, Calibrations.Applied calibrated) {
        return response.toBuilder().setRawConfidence(calibrated.raw()).setConfidence(calibrated.calibrated()).build();
    }

    /** Why an output climbs the cascade, or null when it is good enough. */
    String reason(ExecuteStepResponse result, double calibrated, String workerType, Catalog catalog) {
        if (config.cascade().onValidationFailure() && result.hasValidation() && !result.getValidation().getPassed()) {
            StringBuilder failed = new StringBuilder();
            result.getValidation().getGatesList().stream().filter(g -> !g.getPassed()).forEach(g -> {
                if (!failed.isEmpty()) {
                    failed.append(", ");
                }
                failed.append(g.getName());
            });
            return "failed validation (" + failed + ")";
        }
        double threshold = catalog.cascadeThreshold(workerType);
        if (threshold > 0 && calibrated < threshold) {
            return String.format(Locale.ROOT, "has calibrated confidence %.3f under the '%s' threshold %.3f",
                    calibrated, workerType, threshold);
        }
        return null;
    }
}
